"""Every command of README.md's command table that runs offline is run as shown, in a fresh
working folder, and must exit with the code its `exit` column documents (the first code there;
the others name conditions, e.g. "`3` on a breach"), so the README cannot drift from the CLI.

`python -m slo` commands get one finished run folder to read (a copy of the session's default
run); a `<placeholder>` path in a command is the matching path in the working folder.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli_env

README = ROOT / "README.md"
# Not run here, and why: they need the internet (and keys to do anything useful).
NOT_OFFLINE = {
    "python -m runner env=testnet": "Binance's spot testnet: internet (and testnet keys)",
    "python -m runner env=live": "Binance's real market: internet",
}
# Run only when the optional plugin is installed (the dev extra installs it).
NEEDS_PLUGIN = {
    "python -m runner -m hydra/launcher=joblib seed=1,2,3,4": "hydra_plugins.hydra_joblib_launcher",
}
CELL = re.compile(r"(?<!\\)\|")
CODE = re.compile(r"^`([^`]+)`$")
EXIT = re.compile(r"`(\d+)`")


def command_table() -> list[tuple[str, int]]:
    """(command, documented exit code) per row of the table under `## Commands`."""
    section = README.read_text(encoding="utf-8").split("\n## Commands\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [[c.strip() for c in CELL.split(line.strip())[1:-1]]
            for line in section.splitlines() if line.startswith("|")]
    assert rows, "README.md has no command table under ## Commands"
    header, body = rows[0], [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]
    assert header[0] == "command" and "exit" in header, header
    exit_column = header.index("exit")
    table = []
    for row in body:
        command, codes = CODE.match(row[0]), EXIT.findall(row[exit_column])
        assert command and codes, f"a row without a `command` or an exit code: {row}"
        table.append((command.group(1), int(codes[0])))
    return table


COMMANDS = command_table()


def test_every_command_documents_its_exit_code():
    assert len(COMMANDS) >= 10
    assert all(command.startswith(("python -m runner", "python -m slo"))
               for command, _ in COMMANDS)


def test_the_skip_lists_name_commands_of_the_table():
    """A command renamed in the README must not leave a stale entry that skips nothing."""
    shown = {command for command, _ in COMMANDS}
    assert set(NOT_OFFLINE) | set(NEEDS_PLUGIN) <= shown


def _argv(command: str, cwd: Path) -> list[str]:
    argv = shlex.split(command)
    assert argv[0] == "python"
    argv[0] = sys.executable
    for i, arg in enumerate(argv):
        if "<" in arg:  # key=outputs/runs/<date>/<time>_<env>: the one matching path
            key, _, pattern = arg.rpartition("=")
            matches = sorted(cwd.glob(re.sub(r"<[^>]+>", "*", pattern)))
            assert len(matches) == 1, (arg, matches)
            argv[i] = f"{key}={matches[0].relative_to(cwd).as_posix()}" if key else str(
                matches[0])
    return argv


@pytest.mark.slow
@pytest.mark.parametrize(("command", "code"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_a_documented_command_exits_as_documented(command, code, tmp_path, request):
    if command in NOT_OFFLINE:
        pytest.skip(NOT_OFFLINE[command])
    plugin = NEEDS_PLUGIN.get(command)
    if plugin and importlib.util.find_spec(plugin) is None:
        pytest.skip(f"needs {plugin} (pip install -e '.[joblib]')")
    if command.startswith("python -m slo"):
        _, run_dir = request.getfixturevalue("default_run")
        shutil.copytree(run_dir, tmp_path / "outputs" / "runs" / run_dir.parent.name
                        / run_dir.name)
    done = subprocess.run(_argv(command, tmp_path), cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == code, (
        f"`{command}` exited {done.returncode}, README.md says {code}\n{done.stderr[-3000:]}")
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
