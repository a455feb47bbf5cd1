"""The project stands on its own: docs, code, config and tests cite only files it ships."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".txt", ".cfg"}


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=False).stdout
    files = [ROOT / line for line in listed.splitlines()] if listed else list(ROOT.rglob("*"))
    return [p for p in files if p.suffix in TEXT_SUFFIXES and p.is_file()]


def test_nothing_cites_a_blueprint_outside_the_repository():
    outside = re.compile(r"DESIGN\.md|\.\./shared/")
    me = Path(__file__).resolve()
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in tracked_text_files() if p.resolve() != me
            for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace")
                                     .splitlines(), 1) if outside.search(line)]
    assert hits == []


def test_relative_links_in_docs_point_at_files_that_exist():
    link = re.compile(r"\]\((?!https?://|#|mailto:)([^)#\s]+)")
    broken = []
    for doc in [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in link.findall(doc.read_text(encoding="utf-8")):
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []
