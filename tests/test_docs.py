"""Every code block in the README and docs/ runs: Python blocks execute (each file's blocks in order,
in one fresh process), and every `tfa-nets`, `make` and `python <file>` line of the shell blocks
names a command, target or file that exists and parses."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tfa_custom_nets import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(page, languages):
    return [code for language, code in BLOCK.findall(page.read_text()) if language in languages]


def test_the_readme_stays_short_and_every_docs_page_is_linked_from_it():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 12_500
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme, f"{page.name} is not linked from the README"


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, {"python"})], ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path):
    code = "\n".join(blocks(page, {"python"}))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, {"", "bash", "sh"})], ids=lambda p: p.name)
def test_shell_lines_name_commands_that_exist(page):
    parser = cli.build_parser()
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    checked = 0
    for code in blocks(page, {"", "bash", "sh"}):
        for line in code.splitlines():
            words = shlex.split(line.split(" #")[0].replace("<time>", "20260101-000000"))
            if not words:
                continue
            if words[0] == "tfa-nets":
                parser.parse_args(words[1:])  # argparse exits (a failure here) on an unknown command or option
            elif words[0] == "make":
                assert set(w for w in words[1:] if "=" not in w) <= targets, line
            elif words[0] == "python" and words[1].endswith(".py"):
                assert (ROOT / words[1]).is_file(), line
            else:
                continue
            checked += 1
    assert checked or page.name == "README.md"


def _build_site(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          capture_output=True, text=True, timeout=300, cwd=root)


def test_the_site_builds_without_a_warning_and_its_links_lead_where_the_repository_links_lead(tmp_path):
    """`make docs`: --strict fails on any warning (a link to a missing file or anchor, a page left out of the
    nav, a reference name that does not resolve, a docstring griffe cannot read)."""
    result = _build_site(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr[-3000:]
    home = (tmp_path / "site" / "index.html").read_text()
    assert 'href="networks.html"' in home  # the README's docs/networks.md
    assert 'href="repo/experiments/cartpole/results.html"' in home  # the results table's links
    performance = (tmp_path / "site" / "performance.html").read_text()
    assert 'href="repo/benchmarks/results/peers_pendulum_td3.html"' in performance
    reference = (tmp_path / "site" / "reference" / "training.html").read_text()
    assert "Greedy eval mean that counts as solved" in reference  # a config field's docstring


@pytest.mark.slow
def test_a_broken_link_or_an_unknown_name_fails_the_build(tmp_path):
    for folder in ("docs", "tools", "tfa_custom_nets", "experiments", "benchmarks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    assert _build_site(tmp_path, tmp_path / "site").returncode == 0  # the copy builds as the repository does
    page = tmp_path / "docs" / "security.md"
    page.write_text(page.read_text() + "\nSee [the old notes](../experiments/no_such_notes.md).\n")
    result = _build_site(tmp_path, tmp_path / "site")
    assert result.returncode == 1 and "no_such_notes.md" in result.stderr
    page.write_text((ROOT / "docs" / "security.md").read_text())
    reference = tmp_path / "docs" / "reference" / "networks.md"
    reference.write_text(reference.read_text() + "\n::: tfa_custom_nets.networks.NoSuchNetwork\n")
    result = _build_site(tmp_path, tmp_path / "site")
    assert result.returncode == 1 and "NoSuchNetwork" in result.stderr


@pytest.mark.parametrize("package", ["networks", "agents", "envs", "models", "replay", "training"])
def test_every_public_name_has_its_entry_in_the_api_reference(package):
    import importlib

    module = importlib.import_module(f"tfa_custom_nets.{package}")
    page = (ROOT / "docs" / "reference" / f"{package}.md").read_text()
    entries = set(re.findall(rf"^::: tfa_custom_nets\.{package}\.(?:\w+\.)?(\w+)$", page, re.M))
    names = set(module.__all__)
    if package == "replay":  # the Reverb names are in __all__ only where dm-reverb is installed
        names |= {name for names in module._REVERB_NAMES.values() for name in names}
    assert names <= entries, f"missing from docs/reference/{package}.md: {sorted(names - entries)}"
    assert entries <= names, f"not public in tfa_custom_nets.{package}: {sorted(entries - names)}"
