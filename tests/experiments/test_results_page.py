import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_results_page_and_the_readme_table_match_the_results_files():
    result = subprocess.run([sys.executable, str(ROOT / "experiments" / "results_page.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    page = (ROOT / "experiments" / "README.md").read_text()
    assert "| [cartpole/heldout](cartpole/heldout.md) | CartPole-v1 | 30,011 | 6, 7, 8, 9, 10 |" in page


def test_the_page_regenerates_from_the_json_files_alone(tmp_path):
    """No Markdown is read back: with only the JSON results files (no table beside them), the page and the
    README table come out the same, dates and machines included."""
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "results_page.py").write_text((ROOT / "experiments" / "results_page.py").read_text())
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    for path in (ROOT / "experiments").glob("*/*.json"):
        (tmp_path / "experiments" / path.parent.name).mkdir(exist_ok=True)
        (tmp_path / "experiments" / path.parent.name / path.name).write_text(path.read_text())
    assert not list((tmp_path / "experiments").glob("*/*.md"))
    result = subprocess.run([sys.executable, str(tmp_path / "experiments" / "results_page.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "experiments" / "README.md").read_text() == (ROOT / "experiments" / "README.md").read_text()
    assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text()
