"""Retention: list and prune run folders (`python -m runner.prune`), and gzip the journals of
finished runs that stay (`--compress-journals`).  The command line only: the folders are found
by runner/run_folders.py, selected and removed by runner/prune_select.py, their journals
compressed by runner/journal_after_run.py (which also holds `after_run`, config
`journal_after_run`, applied by runner/pipeline.py right after result.json).

    python -m runner.prune                                list run folders and sweeps, with sizes
    python -m runner.prune --older-than 14d               dry run: what would be removed
    python -m runner.prune --older-than 14d --keep-last 5 --yes       remove it
    python -m runner.prune --compress-journals --yes      gzip the journals of finished runs

What is listed, and each folder's status and date: runner/run_folders.py.  What is selected and
never removed: runner/prune_select.py.

A dry run unless `--yes`: it prints what would be removed and the bytes that would be freed.
Exit codes: 0 ok, 1 a folder or journal could not be removed or compressed (the others were),
2 bad arguments (one `error:` line, nothing done).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from runner.journal_after_run import JournalNotSafe, compress_journal
from runner.journal_after_run import after_run as after_run  # runner/pipeline.py imports it here
from runner.prune_select import protect, remove, select
from runner.prune_text import UNIT_S, shown, size
from runner.run_folders import Entry, find_entries
from runner.shared.errors import EXIT_INVALID
from runner.shared.events import JOURNAL_NAME

DEFAULT_ROOTS = (Path("outputs/runs"), Path("outputs/sweeps"))
AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")


def table(entries: list[Entry], *, apply: bool) -> str:
    from runner.shared.tables import format_table

    verb = "remove" if apply else "would remove"
    rows = [[verb if e.selected else "keep",
             datetime.fromtimestamp(e.when).strftime("%Y-%m-%d %H:%M"), e.env, e.status,
             size(e.size), shown(e.path),
             "; ".join([f"sweep of {len(e.runs)} job(s)"] * (e.kind == "sweep") + e.notes)]
            for e in entries]
    return format_table(["action", "date", "env", "status", "size", "folder", "note"], rows)


class Parser(argparse.ArgumentParser):
    """argparse with one `error:` line (exit 2) instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


def parse_age(text: str) -> float:
    found = AGE.match(text.strip())
    if not found:
        fail(f"--older-than: {text!r} is not allowed; allowed: a number and a unit s, m, h, d "
             "or w (e.g. 14d, 12h)")
    return float(found[1]) * UNIT_S[found[2]]


def parse_count(text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()) or int(text) < 1:
        fail(f"--keep-last: {text!r} is not allowed; allowed: a whole number >= 1")
    return int(text)


def parser() -> Parser:
    parse = Parser(prog="python -m runner.prune", allow_abbrev=False,
                   description="List run folders and sweeps (date, env, status, size) and "
                   "remove the selected ones; a dry run unless --yes. A running folder is "
                   "never removed, nor anything outside the roots.",
                   epilog="Semantics: the Retention section of docs/OPERATIONS.md.")
    parse.add_argument("roots", nargs="*", type=Path, metavar="ROOT",
                       help="folders to search (default: outputs/runs outputs/sweeps)")
    parse.add_argument("--older-than", metavar="AGE",
                       help="select what ended more than AGE ago (e.g. 14d; s, m, h, d, w)")
    parse.add_argument("--keep-last", metavar="N",
                       help="keep the N newest runs (and sweeps) of each env")
    parse.add_argument("--compress-journals", action="store_true",
                       help="gzip the events.jsonl of every finished run that stays")
    parse.add_argument("--yes", "--apply", dest="apply", action="store_true",
                       help="do it (default: a dry run that changes nothing)")
    return parse


def roots_of(given: list[Path]) -> list[Path]:
    for root in given:
        if not root.exists():
            fail(f"{root}: no such folder; allowed: a folder holding run folders (such as "
                 "outputs/runs)")
        if not root.is_dir():
            fail(f"{root}: is a file, not a folder; allowed: a folder holding run folders")
    return given or [root for root in DEFAULT_ROOTS if root.is_dir()]


def collect(roots: list[Path], problems: list[str]) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for root in roots:
        for entry in find_entries(root, problems):
            entries.setdefault(os.path.realpath(entry.path), entry)  # overlapping roots
    return sorted(entries.values(), key=lambda e: (e.when, str(e.path)))


def compress_all(entries: list[Entry], *, apply: bool,
                 say: Callable[[str], None]) -> tuple[int, int, int, int]:
    """--compress-journals over the entries that stay: (journals, bytes before, bytes after,
    failures)."""
    count = before = after = failed = 0
    for entry in entries:
        if entry.selected or entry.protected:
            continue
        for run in entry.runs:
            journal = run.path / JOURNAL_NAME
            if not run.finished or not journal.is_file():
                continue
            if not apply:
                count, before = count + 1, before + journal.stat().st_size
                say(f"would compress  {shown(journal)}  {size(journal.stat().st_size)}")
                continue
            try:
                was, now = compress_journal(run.path)
            except JournalNotSafe as exc:
                say(f"kept            {shown(journal)}: {exc}")
                continue
            except OSError as exc:
                failed += 1
                say(f"failed          {shown(journal)}: {exc.strerror or exc}")
                continue
            count, before, after = count + 1, before + was, after + now
            say(f"compressed      {shown(journal)}  {size(was)} -> {size(now)}")
    return count, before, after, failed


def main(argv: list[str] | None = None, now: float | None = None) -> int:
    args = parser().parse_args(argv)
    older_than = parse_age(args.older_than) if args.older_than is not None else None
    keep_last = parse_count(args.keep_last) if args.keep_last is not None else None
    roots = roots_of(args.roots)
    where = ", ".join(shown(r) for r in (args.roots or list(DEFAULT_ROOTS)))
    now = time.time() if now is None else now
    problems: list[str] = []
    entries = collect(roots, problems)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not entries:
        print(f"no run folders under {where}")
        return 0
    protect(entries, now)
    select(entries, now, older_than, keep_last, args.older_than or "")
    print(table(entries, apply=args.apply))
    print()
    chosen = [e for e in entries if e.selected]
    total, freed = sum(e.size for e in entries), sum(e.size for e in chosen)
    code = 0
    if older_than is None and keep_last is None:
        print(f"{len(entries)} folders, {size(total)}; select with "
              "--older-than AGE and/or --keep-last N (a dry run until --yes)")
    elif not args.apply:
        print(f"dry run: would remove {len(chosen)} of {len(entries)} folders ({size(freed)} "
              f"of {size(total)}); nothing was removed"
              + ("; pass --yes to remove them" if chosen else ""))
    else:
        gone = 0
        for entry in chosen:
            why = remove(entry)
            if why is None:
                gone += 1
            else:
                entry.selected = False
                freed -= entry.size
                code = 1
                print(f"not removed: {shown(entry.path)}: {why}", file=sys.stderr)
        print(f"removed {gone} of {len(entries)} folders, freed {size(freed)}")
    if args.compress_journals:
        count, before, after, failed = compress_all(entries, apply=args.apply, say=print)
        code = code or (1 if failed else 0)
        if not args.apply:
            print(f"dry run: would compress {count} journal(s) ({size(before)}); nothing was "
                  "compressed" + ("; pass --yes to compress them" if count else ""))
        else:
            print(f"compressed {count} journal(s): {size(before)} -> {size(after)}, freed "
                  f"{size(before - after)}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
