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
