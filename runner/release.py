"""Releases: `python -m runner.release prepare X.Y.Z` and `python -m runner.release notes X.Y.Z`.

prepare: moves the [Unreleased] section of CHANGELOG.md to `## [X.Y.Z] - <today>`, sets
runner.__version__ (the single source of the version), commits and tags vX.Y.Z (--no-git skips
both), and prints what it did.  Between releases __version__ is the next one as a `.devN`
version (e.g. 0.1.0.dev0), whose changes are under [Unreleased].
notes: prints the section of X.Y.Z, the release notes; fails when it does not exist, so the
release workflow refuses a tag whose version the changelog does not describe.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$")
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\]", re.MULTILINE)


class ReleaseError(Exception):
    """Something a maintainer must fix before releasing; one line."""


def section(changelog: str, version: str) -> str:
    """The body under `## [version]`, up to the next `## [` heading."""
    headings = list(HEADING.finditer(changelog))
    for here, after in zip(headings, [*headings[1:], None], strict=True):
        if here["version"] == version:
            end = after.start() if after else len(changelog)
            return changelog[here.end():end].split("\n", 1)[-1].strip()
    unreleased = any(h["version"] == "Unreleased" for h in headings)
    hint = (f"{version} is not released yet (its changes, if any, are under [Unreleased]); "
            if unreleased else "")
    raise ReleaseError(f"CHANGELOG.md has no section '## [{version}]': {hint}"
                       f"run `python -m runner.release prepare {version}` first")


def prepare_changelog(changelog: str, version: str, today: date) -> str:
    if not VERSION.match(version):
        raise ReleaseError(f"version '{version}' is not allowed; allowed: X.Y.Z (e.g. 0.2.0)")
    if any(h["version"] == version for h in HEADING.finditer(changelog)):
        raise ReleaseError(f"CHANGELOG.md already has a section for {version}")
    if not section(changelog, "Unreleased").strip():
        raise ReleaseError("CHANGELOG.md: [Unreleased] is empty; describe the changes first")
    return changelog.replace("## [Unreleased]",
                             f"## [Unreleased]\n\n## [{version}] - {today.isoformat()}", 1)


def set_version(init_text: str, version: str) -> str:
    updated, count = re.subn(r'^__version__ = "[^"]*"$', f'__version__ = "{version}"',
                             init_text, flags=re.MULTILINE)
    if count != 1:
        raise ReleaseError("runner/__init__.py: no `__version__ = \"...\"` line to update")
    return updated


def prepare(version: str, root: Path, *, git: bool, today: date | None = None) -> None:
    changelog, init = root / "CHANGELOG.md", root / "runner" / "__init__.py"
    new_changelog = prepare_changelog(changelog.read_text(encoding="utf-8"), version,
                                      today or date.today())
    new_init = set_version(init.read_text(encoding="utf-8"), version)
    changelog.write_text(new_changelog, encoding="utf-8")
    init.write_text(new_init, encoding="utf-8")
    print(f"{changelog}: [Unreleased] moved to [{version}] - {(today or date.today()).isoformat()}")
    print(f'{init}: __version__ = "{version}"')
    if not git:
        print(f"not committed or tagged (--no-git); check with: python -m runner.release notes "
              f"{version}")
    if git:
        subprocess.run(["git", "commit", "-m", f"Release {version}", "--", str(changelog),
                        str(init)], cwd=root, check=True)
        subprocess.run(["git", "tag", "-a", f"v{version}", "-m", f"Release {version}"],
                       cwd=root, check=True)
        print(f"committed 'Release {version}' and tagged v{version}; "
              f"push with: git push origin main v{version}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.release", description=__doc__)
    parser.add_argument("action", choices=["prepare", "notes"])
    parser.add_argument("version")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (CHANGELOG.md)")
    parser.add_argument("--no-git", action="store_true", help="prepare: do not commit or tag")
    args = parser.parse_args(argv)
    try:
        if args.action == "notes":
            print(section((args.root / "CHANGELOG.md").read_text(encoding="utf-8"),
                          args.version))
        else:
            prepare(args.version, args.root, git=not args.no_git)
    except (ReleaseError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
