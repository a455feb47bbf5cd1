"""Tab completion (runner/completion.py): the printed scripts parse, and their function, driven
the way bash drives it (COMP_LINE, COMP_POINT, COMP_WORDS, COMP_CWORD), offers Hydra's own
candidates for `python -m runner`, `python -m slo` and the console scripts, while any other
`python` line keeps the completion it had.  Each candidate list costs one start of the app
(~0.3 s)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

from runner import completion

BASH = shutil.which("bash")
ZSH = shutil.which("zsh")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")
needs_zsh = pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
# bash's default; `=` and `:` split words, so readline replaces only the text after them.
WORDBREAKS = " \t\n\"'><=;|&(:"
ENVS = {"ci", "dev", "live", "local", "testnet"}


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """PATH with `python`, `python3` (this interpreter) and the console scripts, as shims: the
    function starts the app from PATH, as the user's shell would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shims = {"python": "", "python3": "", "pre-exec-runner": " -m runner",
             "pre-exec-slo": " -m slo"}
    for name, module in shims.items():
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}"{module} "$@"\n')
        shim.chmod(0o755)
    (tmp_path / "completion.bash").write_text(completion.script("bash"))
    (tmp_path / "completion.zsh").write_text(completion.script("zsh"))
    work = tmp_path / "work"  # a clean folder: `python -m` puts the working folder on sys.path
    work.mkdir()
    return cli_env(PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]))


def comp_words(line: str, breaks: str) -> tuple[list[str], int]:
    """COMP_WORDS and COMP_CWORD as bash builds them: word-break characters are words too."""
    words: list[str] = []
    split = re.compile(f"([{re.escape(breaks.strip())}])") if breaks.strip() else None
    for word in line.split():
        words += [w for w in split.split(word) if w] if split else [word]
    if not line or line[-1].isspace():
        words.append("")
    return words, len(words) - 1


def bash_complete(tmp_path: Path, env: dict[str, str], line: str, *, breaks: str = WORDBREAKS,
                  before: str = "", after: str = "") -> list[str]:
    """COMPREPLY of `_pxr_complete` for `line` (cursor at its end), in a fresh bash."""
    words, cword = comp_words(line, breaks)
    program = f"""
        {before}
        . "{tmp_path / 'completion.bash'}"
        COMP_WORDBREAKS=$WORDBREAKS_UNDER_TEST
        COMP_LINE=$LINE_UNDER_TEST
        COMP_POINT=${{#COMP_LINE}}
        read -r -a COMP_WORDS <<< "$WORDS_UNDER_TEST"
        [[ $LINE_UNDER_TEST == *[[:space:]] ]] && COMP_WORDS+=("")
        COMP_CWORD={cword}
        COMPREPLY=()
        _pxr_complete "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" \
            "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
        {after}
    """
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program], cwd=tmp_path / "work",
        env={**env, "LINE_UNDER_TEST": line, "WORDBREAKS_UNDER_TEST": breaks,
             "WORDS_UNDER_TEST": " ".join(w for w in words if w)},
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [c for c in done.stdout.split("\n") if c]


# -- the script ---------------------------------------------------------------------------------


def test_the_module_prints_a_script_per_shell_and_refuses_others(capsys):
    assert completion.main(["bash"]) == 0
    assert "complete -o nospace -o default -F _pxr_complete python" in capsys.readouterr().out
    assert completion.main(["zsh"]) == 0
    assert "bashcompinit" in capsys.readouterr().out
    assert completion.main(["fish"]) == 2 and completion.main([]) == 2
    assert "python -m runner.completion bash" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown shell"):
        completion.script("fish")


def test_the_install_line_runs_as_a_module(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runner.completion", "bash"], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == completion.script("bash")


@needs_bash
def test_the_bash_script_parses(tmp_path):
    (tmp_path / "c.bash").write_text(completion.script("bash"))
    done = subprocess.run([BASH, "-n", str(tmp_path / "c.bash")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@needs_zsh
def test_the_zsh_script_parses(tmp_path):
    (tmp_path / "c.zsh").write_text(completion.script("zsh"))
    done = subprocess.run([ZSH, "-n", str(tmp_path / "c.zsh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_scripts_leave_comp_wordbreaks_alone():
    for shell in completion.SHELLS:
        assert "COMP_WORDBREAKS=" not in completion.script(shell)


# -- bash: the documented commands --------------------------------------------------------------


@needs_bash
def test_python_m_runner_offers_the_env_options(tmp_path, shell_env):
    # `=` breaks words: readline replaces what follows it, so the candidates are the options
    assert set(bash_complete(tmp_path, shell_env, "python -m runner env=")) >= ENVS


@needs_bash
def test_python_m_runner_completes_a_key_path(tmp_path, shell_env):
    assert "adapter.faults." in bash_complete(tmp_path, shell_env, "python -m runner adapter.fa")


@needs_bash
def test_python_m_slo_completes_its_own_config(tmp_path, shell_env):
    assert bash_complete(tmp_path, shell_env, "python -m slo wi") == ["window="]


@needs_bash
def test_a_single_value_gets_its_space(tmp_path, shell_env):
    assert bash_complete(tmp_path, shell_env, "python3 -m runner env=te") == ["testnet "]


@needs_bash
def test_without_eq_as_word_break_the_candidates_are_whole_words(tmp_path, shell_env):
    got = bash_complete(tmp_path, shell_env, "python -m runner env=", breaks=" \t\n")
    assert {f"env={e}" for e in ENVS} <= set(got)


@needs_bash
def test_a_new_word_offers_groups_and_keys(tmp_path, shell_env):
    got = set(bash_complete(tmp_path, shell_env, "python -m runner seed=1 "))
    assert {"env=", "experiment=", "plan_only=", "adapter."} <= got


@needs_bash
def test_the_console_scripts_complete_too(tmp_path, shell_env):
    assert set(bash_complete(tmp_path, shell_env, "pre-exec-runner env=")) >= ENVS
    assert bash_complete(tmp_path, shell_env, "pre-exec-slo wi") == ["window="]


# -- bash: every other python command keeps its completion -------------------------------------

PREVIOUS = "_prev_python() { COMPREPLY=(from-the-previous-rules); }; " \
           "complete -o filenames -F _prev_python python python3"


@needs_bash
def test_other_python_lines_go_to_the_previous_rules(tmp_path, shell_env):
    assert bash_complete(tmp_path, shell_env, "python scr", before=PREVIOUS) == [
        "from-the-previous-rules"]
    assert bash_complete(tmp_path, shell_env, "python -m pip ins", before=PREVIOUS) == [
        "from-the-previous-rules"]
    # still ours for the documented command
    assert set(bash_complete(tmp_path, shell_env, "python -m runner env=",
                                     before=PREVIOUS)) >= ENVS


@needs_bash
def test_without_previous_rules_other_lines_get_file_names(tmp_path, shell_env):
    got = bash_complete(tmp_path, shell_env, "python scr", after="complete -p python")
    assert got == ["complete -o default -o nospace -F _pxr_complete python"]  # -o default: files


@needs_bash
def test_installing_twice_keeps_the_previous_rules(tmp_path, shell_env):
    twice = f'{PREVIOUS}; . "{tmp_path / "completion.bash"}"'
    assert bash_complete(tmp_path, shell_env, "python scr", before=twice) == [
        "from-the-previous-rules"]


@needs_bash
def test_uninstall_restores_the_previous_rules(tmp_path, shell_env):
    got = bash_complete(tmp_path, shell_env, "python scr", before=PREVIOUS,
                        after="pxr_completion_uninstall; complete -p python python3 "
                              "pre-exec-runner 2>&1; declare -F _pxr_complete || true")
    assert got[0] == "from-the-previous-rules"
    assert got[1:3] == ["complete -o filenames -F _prev_python python",
                        "complete -o filenames -F _prev_python python3"]
    assert "pre-exec-runner" in got[3] and "_pxr_complete" not in "".join(got[3:])


# -- zsh (bashcompinit) -------------------------------------------------------------------------


@needs_zsh
def test_zsh_offers_whole_words(tmp_path, shell_env):
    """zsh replaces the whole word (no COMP_WORDBREAKS): the candidates are `env=dev`, ...  The
    function is called directly here; at a prompt bashcompinit's _bash_complete calls it."""
    program = f"""
        autoload -Uz compinit && compinit -u -D
        . "{tmp_path / 'completion.zsh'}"
        [[ ${{_comps[python]}} == _pxr_zsh_python ]] || print "python not registered"
        COMP_LINE=$LINE_UNDER_TEST
        COMP_POINT=${{#COMP_LINE}}
        COMPREPLY=()
        _pxr_complete python "" ""
        print -l -- $COMPREPLY
    """
    done = subprocess.run([ZSH, "-f", "-c", program], cwd=tmp_path / "work",
                          env={**shell_env, "HOME": str(tmp_path),
                               "LINE_UNDER_TEST": "python -m runner env="},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert {f"env={e}" for e in ENVS} <= set(done.stdout.split()), done.stdout + done.stderr
