"""MkDocs hooks (`mkdocs.yml`): the site is the docs/ pages, the README as its home page, and every
repository file those pages link to (results tables, experiment READMEs, scripts), so that each
relative link of the repository works on the site too and `mkdocs build --strict` checks them all.

Links are written for GitHub's view of the repository (`../experiments/cartpole/README.md` from
docs/, `docs/networks.md` from the README). Here every page keeps its repository path in mind: a link
is resolved against it, then pointed at where that file sits in the site (docs/x.md -> x.md,
README.md -> index.md, anything else -> repo/<its path>). A link to a missing file is left as written,
and MkDocs reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(\]\()([^)\s]+)(\))")
_site_paths: dict[str, str] = {}  # site src_uri -> repository path, for the pages this hook brought in


def _site_uri(repo_path: str) -> str:
    if repo_path == "README.md":
        return "index.md"
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    return f"repo/{repo_path}"


def _repo_path(src_uri: str) -> str:
    return _site_paths.get(src_uri, f"docs/{src_uri}")


def _targets(repo_path: str, text: str):
    """(link as written, repository path it points to, fragment) for each relative link of a page."""
    for _, link, _ in LINK.findall(text):
        if re.match(r"^[a-z]+:", link) or link.startswith(("#", "/")):
            continue
        path, _, fragment = link.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(repo_path), path))
        if (ROOT / target).is_dir() and (ROOT / target / "README.md").is_file():
            target = posixpath.join(target, "README.md")
        if not target.startswith("..") and (ROOT / target).is_file():
            yield link, target, fragment


def on_files(files, config):
    """Adds the README and every repository file reachable by links from the pages (following the links
    of the Markdown files it adds as well)."""
    todo = ["README.md", *(f"docs/{f.src_uri}" for f in files.documentation_pages())]
    seen = set(todo)
    while todo:
        repo_path = todo.pop()
        if not repo_path.endswith(".md"):
            continue
        for _, target, _ in _targets(repo_path, (ROOT / repo_path).read_text()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for repo_path in sorted(seen):
        if repo_path.startswith("docs/"):
            continue
        uri = _site_uri(repo_path)
        _site_paths[uri] = repo_path
        files.append(File.generated(config, uri, abs_src_path=str(ROOT / repo_path)))
    return files


def on_page_markdown(markdown, page, config, files):
    """Points each relative link at the linked file's place in the site."""
    repo_path = _repo_path(page.file.src_uri)
    here = posixpath.dirname(page.file.src_uri)
    mapping = {link: posixpath.relpath(_site_uri(target), here or ".") + (f"#{fragment}" if fragment else "")
               for link, target, fragment in _targets(repo_path, markdown)}
    return LINK.sub(lambda m: m.group(1) + mapping.get(m.group(2), m.group(2)) + m.group(3), markdown)
