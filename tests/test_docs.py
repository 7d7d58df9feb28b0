"""Every code block in the README and docs/ runs: Python blocks execute (each file's blocks in order,
in one fresh process), and every `tfa-nets`, `make` and `python <file>` line of the shell blocks
names a command, target or file that exists and parses."""

import re
import shlex
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
