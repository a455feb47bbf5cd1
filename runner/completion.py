"""Tab completion for the documented commands: `python -m runner`, `python -m slo` and the console
scripts `pre-exec-runner`, `pre-exec-slo`.

    eval "$(python -m runner.completion bash)"     # bash (add the line to ~/.bashrc)
    eval "$(python -m runner.completion zsh)"      # zsh, via bashcompinit (~/.zshrc)

Why Hydra's own script (`python -m runner --shell-completion install=bash`) does not do it, in
Hydra 1.3 (hydra/_internal/core_plugins/bash_completion.py):

- run as `python -m runner` it registers itself for the command `python`, replacing whatever
  completed `python` before, and its function then takes the second word as a script:
  `$(pwd)/-m` is no file, so it returns without a single candidate;
- asked directly, its query strips `python <script.py>` from the line with a pattern that stops
  at `-m`, so `-m runner env=` reaches the parser: `-m` reads as --multirun and `runner` as a
  broken override (`Error parsing override 'runner'`, no candidates);
- it removes `=` from COMP_WORDBREAKS for the whole shell.

What the script printed here does instead: its function `_pxr_complete` recognises `python -m
runner ...`, `python -m slo ...` (also `python3`, or an interpreter given by path) and the console
scripts, rewrites the line up to the cursor to `pre-exec-<app> <arguments>` (a line Hydra knows
how to strip), and asks the application itself (`python -m <app> -sc query=bash`, with COMP_LINE
and COMP_POINT in the environment): the candidates are Hydra's own, from the real config.  Any
other `python` command line goes to the completion that was registered for `python` before
(bash-completion's, loaded first if it loads lazily), or to file names when there was none.
COMP_WORDBREAKS is left alone: candidates are trimmed to the part after the last word-break
character, as readline expects.  `pxr_completion_uninstall` (bash) restores the previous rules.

The Hydra application is started once per Tab press (~0.3 s): nothing is cached, so new config
files and groups are offered at once.
"""

from __future__ import annotations

import sys

from runner import __version__

# Commands the scripts register for: the interpreters (only `-m runner` / `-m slo` lines are
# handled, every other line goes to the previous rules) and the console scripts.
PYTHONS = ("python", "python3")
SCRIPTS = ("pre-exec-runner", "pre-exec-slo")
APPS = ("runner", "slo")  # modules with a Hydra entry point; console script = pre-exec-<module>
FUNCTION = "_pxr_complete"

# The completion function, shared by bash and zsh (zsh runs it through bashcompinit's
# `_bash_complete`).  @SPLIT_LINE@ / @SPLIT_OUT@: split a string into an array on whitespace,
# without globbing (bash: read -a; zsh: ${=...} under noglob).  Arrays are 0-based (ksharrays).
_FUNCTION = r"""
_pxr_complete() {
    @ZSH_OPTIONS@
    local line="${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}"
    local -a w found
    @SPLIT_LINE@
    local cur="" app="" skip=0 i
    case "$line" in
        "" | *[[:space:]]) ;;                       # the cursor starts a new word
        *) cur="${w[${#w[@]}-1]}" ;;
    esac
    local before=${#w[@]}                           # whole words before the cursor's word
    [[ -n $cur ]] && before=$((before - 1))
    case "${w[0]##*/}" in
        pre-exec-runner) app=runner skip=1 ;;
        pre-exec-slo) app=slo skip=1 ;;
        python | python[0-9] | python[0-9].[0-9]*)
            if [[ ${w[1]-} == -m && ( ${w[2]-} == runner || ${w[2]-} == slo ) ]]; then
                app=${w[2]} skip=3
            fi ;;
    esac
    if [[ -z $app ]] || (( before < skip )); then   # not ours: whatever completed it before
        _pxr_fallback "$@"
        return
    fi
    # The line as Hydra can strip it: `pre-exec-<app> <arguments up to the cursor>`.
    local query="pre-exec-$app"
    for (( i = skip; i < ${#w[@]}; i++ )); do query+=" ${w[i]}"; done
    [[ -z $cur ]] && query+=" "
    local exe="${w[0]}" out
    [[ $exe == "~/"* ]] && exe="$HOME/${exe#"~/"}"
    if (( skip == 3 )); then
        out=$(COMP_LINE="$query" COMP_POINT=${#query} "$exe" -m "$app" -sc query=bash \
              2>/dev/null </dev/null)
    else
        out=$(COMP_LINE="$query" COMP_POINT=${#query} "$exe" -sc query=bash 2>/dev/null </dev/null)
    fi
    @SPLIT_OUT@
    # Readline replaces only the text after the last word-break character (`=`, `:`, ... in
    # COMP_WORDBREAKS): the candidates are trimmed to that part.
    local keep="" breaks="${COMP_WORDBREAKS-}" c last=""
    for (( i = ${#cur} - 1; i >= 0; i-- )); do
        case "$breaks" in *"${cur:$i:1}"*) keep="${cur:0:$((i + 1))}"; break ;; esac
    done
    COMPREPLY=()
    for c in "${found[@]}"; do
        [[ $c == "$cur"* ]] || continue
        COMPREPLY+=("${c:${#keep}}")
        last=$c
    done
    # Registered with -o nospace (keys and groups go on: `env=`, `adapter.`): a single complete
    # value gets its space here, a single directory value its slash.
    if (( ${#COMPREPLY[@]} == 1 )); then
        case "$last" in
            *= | *. | */) ;;
            *=*/* | *=.*)
                if [[ -d ${last##*=} ]]; then COMPREPLY[0]+="/"; else COMPREPLY[0]+=" "; fi ;;
            *) COMPREPLY[0]+=" " ;;
        esac
    fi
    return 0
}
"""

_BASH = r"""# bash completion for `python -m runner`, `python -m slo`, pre-exec-runner, pre-exec-slo
# (pre-execution-runner @VERSION@).  Install: eval "$(python -m runner.completion bash)"
# Undo: pxr_completion_uninstall.  Debug a Tab press: COMP_LINE=... python -m runner -sc query=bash
@FUNCTION@
_pxr_fallback() {  # a line that is not ours: the rules registered for this command before ours
    local name="_pxr_prev_${1##*/}"
    name=${name//[^A-Za-z0-9_]/_}
    local spec="${!name-}" rest fn
    compopt +o nospace 2>/dev/null  # ours (keys go on after `=`); a file name gets its space
    [[ $spec =~ -F[[:space:]]+([^[:space:]]+) ]] || return 0  # no function: file names
    fn=${BASH_REMATCH[1]}
    compopt +o default 2>/dev/null  # the previous rules' own options instead
    rest=$spec
    while [[ $rest =~ -o[[:space:]]+([a-z]+)(.*) ]]; do
        compopt -o "${BASH_REMATCH[1]}" 2>/dev/null
        rest=${BASH_REMATCH[2]}
    done
    "$fn" "$@"
}

pxr_completion_uninstall() {  # back to the rules from before the install line
    complete -r @COMMANDS@ 2>/dev/null
    local cmd name
    for cmd in @PYTHONS@; do
        name="_pxr_prev_$cmd"
        [[ -n ${!name-} ]] && eval "${!name}"
        unset "$name"
    done
    unset -f _pxr_complete _pxr_fallback pxr_completion_uninstall
}

_pxr_install() {
    local cmd spec
    for cmd in @PYTHONS@; do
        if ! complete -p "$cmd" >/dev/null 2>&1; then  # bash-completion loads rules on first use
            if declare -F _comp_load >/dev/null; then
                _comp_load -- "$cmd" >/dev/null 2>&1
            elif declare -F __load_completion >/dev/null; then
                __load_completion "$cmd" >/dev/null 2>&1
            fi
        fi
        spec=$(complete -p "$cmd" 2>/dev/null)
        case "$spec " in *" -F _pxr_complete "*) continue ;; esac  # installed twice: keep them
        printf -v "_pxr_prev_$cmd" '%s' "$spec"
    done
    complete -o nospace -o default -F _pxr_complete @COMMANDS@
}
_pxr_install
unset -f _pxr_install
"""

_ZSH = r"""# zsh completion for `python -m runner`, `python -m slo`, pre-exec-runner, pre-exec-slo
# (pre-execution-runner @VERSION@), through bashcompinit.
# Install: eval "$(python -m runner.completion zsh)"  (after compinit, if your ~/.zshrc runs it)
(( $+functions[compdef] )) || { autoload -Uz compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
@FUNCTION@
_pxr_fallback() { COMPREPLY=(); }

typeset -gA _pxr_prev  # what completed each python before: its compdef, zsh's _python (a pattern)
() {
    local cmd fallback=_default
    (( $+functions[_python] )) && fallback=_python
    for cmd in @PYTHONS@; do
        [[ ${_comps[$cmd]-} == _pxr_zsh_python ]] || _pxr_prev[$cmd]=${_comps[$cmd]:-$fallback}
    done
}

_pxr_zsh_python() {  # `python -m runner|slo ...` here, any other python line as before
    if (( CURRENT > 3 )) && [[ ${words[2]} == -m ]] \
        && [[ ${words[3]} == runner || ${words[3]} == slo ]]; then
        _bash_complete -o nospace -o default -F _pxr_complete
    else
        ${=${_pxr_prev[$service]:-_default}}
    fi
}
compdef _pxr_zsh_python @PYTHONS@
complete -o nospace -o default -F _pxr_complete @SCRIPTS@
"""

_SPLIT = {
    "bash": ('read -r -a w <<< "$line"', 'read -r -a found <<< "$out"', ""),
    "zsh": ("w=( ${=line} )", "found=( ${=out} )", "setopt localoptions ksharrays noglob"),
}
SHELLS = tuple(_SPLIT)


def script(shell: str) -> str:
    """The completion script for `shell` (bash or zsh), to be eval'd by that shell."""
    if shell not in _SPLIT:
        raise ValueError(f"unknown shell {shell!r}; known: {', '.join(SHELLS)}")
    split_line, split_out, options = _SPLIT[shell]
    function = (_FUNCTION.replace("@SPLIT_LINE@", split_line)
                .replace("@SPLIT_OUT@", split_out))
    function = function.replace("    @ZSH_OPTIONS@\n", f"    {options}\n" if options else "")
    template = _BASH if shell == "bash" else _ZSH
    return (template.replace("@FUNCTION@", function.strip("\n"))
            .replace("@VERSION@", __version__)
            .replace("@PYTHONS@", " ".join(PYTHONS))
            .replace("@SCRIPTS@", " ".join(SCRIPTS))
            .replace("@COMMANDS@", " ".join(PYTHONS + SCRIPTS)))


USAGE = f"""usage: python -m runner.completion {{{','.join(SHELLS)}}}

Prints a tab-completion script for python -m runner, python -m slo, pre-exec-runner and
pre-exec-slo.  Install it for the current shell, or add the line to ~/.bashrc / ~/.zshrc:

    eval "$(python -m runner.completion bash)"
    eval "$(python -m runner.completion zsh)"
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["-h"], ["--help"]):
        print(USAGE, end="")
        return 0
    if len(args) != 1 or args[0] not in SHELLS:
        print(USAGE, end="", file=sys.stderr)
        return 2
    print(script(args[0]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
