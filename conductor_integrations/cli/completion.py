"""``integ completion bash|zsh|fish``: shell completion scripts, and the hidden
``integ __complete SHELL`` they call back into on every TAB.

The scripts are thin: they hand the command line up to the cursor to ``integ __complete``
(in ``_INTEG_COMPLETE_LINE``), which walks the command tree the way the parser will and
prints one directive line (``:`` then ``files`` and/or ``nospace``) and then one candidate per line
(``VALUE<TAB>HELP`` for zsh and fish). Values come from the callbacks in ``complete``: no
network, nothing heavy imported. The scripts are the same for every install; the shipped
copies in ``completions/`` are written by ``scripts/gen_docs.py``.

The shell is always the one named on the command line, never guessed from the parent
process.
"""

import contextlib
import io
import os
import shlex
from enum import Enum
from typing import Annotated, Any

import typer

from conductor_integrations import output
from conductor_integrations.cli.options import Command

PROG = "integ"
LINE_VAR = "_INTEG_COMPLETE_LINE"
BREAKS_VAR = "_INTEG_COMPLETE_BREAKS"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


BASH = r"""# bash completion for integ                                 -*- shell-script -*-
# Generated from the command tree by scripts/gen_docs.py (`integ completion bash`).
# Install: copy to $XDG_DATA_HOME/bash-completion/completions/integ, or add
# `eval "$(integ completion bash)"` to ~/.bashrc.

_integ_completion() {
    local line="${COMP_LINE-}" point="${COMP_POINT-}"
    if [[ -z $line ]]; then
        line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
        point=${#line}
    fi
    local prog="${1:-integ}"
    [[ $prog == */* && -x $prog ]] || prog=integ
    local IFS=$'\n'
    local -a reply
    reply=($(_INTEG_COMPLETE_LINE="${line:0:point}" \
        _INTEG_COMPLETE_BREAKS="${COMP_WORDBREAKS-}" "$prog" __complete bash 2>/dev/null))
    local directive="${reply[0]-}"
    COMPREPLY=("${reply[@]:1}")
    if [[ $directive == *nospace* ]]; then
        compopt -o nospace 2>/dev/null
    fi
    if [[ $directive != *files* ]]; then
        compopt +o default 2>/dev/null
    fi
    return 0
}

complete -o default -F _integ_completion integ
"""

ZSH = r"""#compdef integ
# zsh completion for integ.
# Generated from the command tree by scripts/gen_docs.py (`integ completion zsh`).
# Install: copy as _integ into a folder on $fpath (before compinit runs), or add
# `eval "$(integ completion zsh)"` to ~/.zshrc after compinit.

_integ() {
    local prog=${words[1]}
    [[ $prog == */* && -x $prog ]] || prog=integ
    local -a reply items nospace
    local directive entry value
    reply=("${(@f)$(_INTEG_COMPLETE_LINE="${(j: :)${(@)words[1,CURRENT-1]}} ${PREFIX}" \
        $prog __complete zsh 2>/dev/null)}")
    directive=${reply[1]}
    for entry in "${(@)reply[2,-1]}"; do
        [[ -n $entry ]] || continue
        value=${entry%%$'\t'*}
        value=${${value//\\/\\\\}//:/\\:}
        if [[ $entry == *$'\t'* ]]; then
            items+=("$value:${entry#*$'\t'}")
        else
            items+=("$value")
        fi
    done
    [[ $directive == *nospace* ]] && nospace=(-S '')
    if (( ${#items} )); then
        _describe -t values integ items "${nospace[@]}"
    elif [[ $directive == *files* ]]; then
        _files
    else
        return 1
    fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _integ "$@"
else
    compdef _integ integ
fi
"""

FISH = r"""# fish completion for integ.
# Generated from the command tree by scripts/gen_docs.py (`integ completion fish`).
# Install: copy to ~/.config/fish/completions/integ.fish, or run
# `integ completion fish | source`.

function __integ_complete
    set -l prog (commandline -opc)[1]
    string match -q -- '*/*' $prog; and test -x "$prog"; or set prog integ
    set -lx _INTEG_COMPLETE_LINE (commandline -cp | string collect)
    set -l reply ($prog __complete fish 2>/dev/null)
    set -l directive $reply[1]
    set -e reply[1]
    if test (count $reply) -gt 0
        printf '%s\n' $reply
    else if string match -q -- '*files*' "$directive"
        __fish_complete_path (commandline -ct)
    end
end

complete -c integ -f -a '(__integ_complete)'
"""

SCRIPTS = {Shell.bash: BASH, Shell.zsh: ZSH, Shell.fish: FISH}
#: Where each shell looks for a completion file, relative to an install prefix's share/.
FILENAMES = {Shell.bash: "integ.bash", Shell.zsh: "_integ", Shell.fish: "integ.fish"}
DEFAULT_BREAKS = " \t\n\"'><=;|&(:"


def script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    return SCRIPTS[Shell(shell)]


def register(root: typer.Typer) -> None:
    """Add ``integ completion`` and the hidden ``integ __complete`` to ``root``."""
    root.command("completion", cls=Command)(completion_command)
    root.command("__complete", cls=Command, hidden=True)(complete_command)


def completion_command(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.", metavar="SHELL")],
) -> None:
    """Print the completion script for bash, zsh or fish.

    Completion covers commands, options, provider types, the configuration keys of the type
    given with -t, categories, output formats, profile names and the provider names seen
    before on the server the line points at (--server, CONDUCTOR_SERVER_URL or the
    profile's). It works offline: nothing is sent to a server on TAB. Names from a server or a
    file are quoted for the shell (bash gets them escaped for the word being completed;
    zsh and fish quote them themselves); names with control characters are not offered.

    Save the script where your shell looks for completions, or load it from the shell's
    start-up file; `man integ-completion` shows both for each shell.
    """
    output.text(script(shell.value).rstrip("\n"))


def complete_command(shell: Annotated[Shell, typer.Argument(metavar="SHELL")]) -> None:
    """Print the candidates for the command line in $_INTEG_COMPLETE_LINE (used by the scripts)."""
    from typer.main import get_command

    from conductor_integrations.cli import app

    line = os.environ.get(LINE_VAR, "")
    breaks = (os.environ.get(BREAKS_VAR) or DEFAULT_BREAKS) if shell is Shell.bash else ""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            directive, items = candidates(get_command(app), line, breaks)
    except Exception:
        directive, items = ["files"], []
    lines = [":" + ",".join(directive)]
    quote = bash_word(line, breaks)[1] if shell is Shell.bash else ""
    for value, help in items:
        if shell is Shell.bash:
            lines.append(bash_quote(value, quote))  # bash inserts what it gets, as it is
        elif not help:
            lines.append(value)  # zsh and fish quote what they insert themselves
        else:
            lines.append(f"{value}\t{' '.join(help.split())}")
    output.text("\n".join(lines), keep="\t")  # the tab between a value and its help


# -- quoting for bash ----------------------------------------------------------------------

#: Characters bash reads as themselves outside quotes (and any non-ASCII one).
_BASH_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.,:/@%+=")


def bash_word(line: str, breaks: str) -> tuple[str, str]:
    """The word bash (readline) replaces when it completes the end of ``line``, and the
    quote it is in (``'``, ``"`` or ``""``): in an unclosed quote, the text after the quote;
    else the text after the last character of ``breaks`` (COMP_WORDBREAKS) that is neither
    quoted nor escaped."""
    quote, begin, opened, escaped = "", 0, 0, False
    for index, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote, opened = ch, index + 1
        elif ch in breaks:
            begin = index + 1
    return (line[opened:], quote) if quote else (line[begin:], "")


def _dequote(word: str, quote: str) -> str:
    """What bash makes of ``word`` (typed inside ``quote``, if any)."""
    out: list[str] = []
    escaped = False
    for ch in word:
        if escaped:
            if quote == '"' and ch not in '"\\$`':
                out.append("\\")
            out.append(ch)
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        else:
            out.append(ch)
    return "".join(out)


def bash_quote(value: str, quote: str) -> str:
    """``value`` written so that bash reads it back as it is, inside ``quote`` (the quote the
    word on the line is in). Values with control characters never get here (``candidates``
    leaves them out)."""
    if not quote:
        return "".join(c if c in _BASH_PLAIN or ord(c) > 127 else "\\" + c for c in value)
    if quote == "'":
        quoted = value.replace("'", "'\\''")
    else:  # ! would be history expansion even inside "": close, quote it alone, reopen
        quoted = "".join("\"'!'\"" if c == "!" else "\\" + c if c in '"\\$`' else c for c in value)
    # readline closes the quote after a single match, unless the text ends with that quote
    # character already: then close the one just reopened ourselves
    return quoted + quote if quoted.endswith(quote) else quoted


# -- the engine: which parameter the cursor is on, the same way the parser will see it --


def split_line(line: str) -> tuple[list[str], str]:
    """The complete words of ``line`` and the (possibly empty) word under the cursor."""
    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    words: list[str] = []
    try:
        words.extend(lex)
    except ValueError:  # an unclosed quote: keep what was typed
        words.append(lex.token)
    if not line or (line[-1].isspace() and not (words and words[-1].endswith(line[-1]))):
        return words, ""
    return words[:-1], words[-1] if words else ""


def _protected(ctx: Any) -> list[str]:
    found = getattr(ctx, "_protected_args", None)
    if found is None:
        found = getattr(ctx, "protected_args", [])
    return list(found or [])


class _UnknownCommand(Exception):
    """A word on the line names no command: there is nothing sensible to offer."""


def _resolve_context(root: Any, args: list[str]) -> Any:
    ctx = root.make_context(PROG, list(args), resilient_parsing=True)
    rest = _protected(ctx) + list(ctx.args)
    while rest and hasattr(ctx.command, "resolve_command"):
        name, command, rest = ctx.command.resolve_command(ctx, rest)
        if command is None:
            raise _UnknownCommand(name)
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=True)
        rest = _protected(ctx) + list(ctx.args)
    return ctx


def _is_option(param: Any) -> bool:
    return getattr(param, "param_type_name", None) == "option"


def _takes_value(ctx: Any, args: list[str], param: Any) -> bool:
    """True when the last complete word is this option's name, waiting for its value."""
    if not _is_option(param) or getattr(param, "is_flag", False) or getattr(param, "count", False):
        return False
    if "--" in args:
        return False  # after --, every word is an argument
    for index, arg in enumerate(reversed(args)):
        if index + 1 > param.nargs:
            break
        if arg.startswith("-"):
            return arg in param.opts
    return False


def _open_argument(ctx: Any, param: Any) -> bool:
    if getattr(param, "param_type_name", None) != "argument":
        return False
    source = ctx.get_parameter_source(param.name)
    value = ctx.params.get(param.name)
    return bool(
        param.nargs == -1
        or getattr(source, "name", None) != "COMMANDLINE"
        or (param.nargs > 1 and isinstance(value, (tuple, list)) and len(value) < param.nargs)
    )


def _resolve(ctx: Any, args: list[str], incomplete: str) -> tuple[Any, str, str]:
    """(the command or parameter that completes ``incomplete``, the part of ``incomplete``
    it completes, the part before it)."""
    head = ""
    if "=" in incomplete and incomplete.startswith("-"):
        name, _, value = incomplete.partition("=")
        head, incomplete, args = f"{name}=", value, [*args, name]
    if "--" not in args and incomplete.startswith("-"):
        return ctx.command, incomplete, head
    params = ctx.command.get_params(ctx)
    for param in params:
        if _takes_value(ctx, args, param):
            return param, incomplete, head
    for param in params:
        if _open_argument(ctx, param):
            return param, incomplete, head
    return ctx.command, incomplete, head


def candidates(root: Any, line: str, breaks: str = "") -> tuple[list[str], list[tuple[str, str]]]:
    """The directive (``files`` when the shell should fall back to file names, ``nospace``
    when the word goes on after a ``KEY=`` or a folder) and ``(value, help)`` candidates
    for the word under the cursor at the end of ``line``. ``breaks`` are the shell's
    word-break characters (bash's COMP_WORDBREAKS): values are returned relative to the
    text after the last of them."""
    words, incomplete = split_line(line)
    try:
        ctx = _resolve_context(root, words[1:])
    except _UnknownCommand:
        return [], []
    target, partial, head = _resolve(ctx, words[1:], incomplete)
    items = list(target.shell_complete(ctx, partial))
    directive: list[str] = []
    files = [i for i in items if getattr(i, "type", "plain") in ("file", "dir")]
    items = [i for i in items if i not in files]
    if files or (target is not ctx.command and not items and _wants_files(target)):
        directive.append("files")
    skip = _shell_prefix(line, incomplete, breaks)
    found: list[tuple[str, str]] = []
    for item in items:
        full = head + str(item.value)
        if not full.startswith(incomplete[:skip]) or output.has_controls(full):
            continue  # a name with a newline or a control character can be neither shown nor typed
        found.append((full[skip:], str(getattr(item, "help", None) or "")))
    open_ended = [value.endswith(("=", "/")) for value, _ in found]
    if any(open_ended) and (len(found) > 1 or all(open_ended)):
        directive.append("nospace")  # KEY= and folders go on; a single file name is done
    return directive, found


def _wants_files(param: Any) -> bool:
    """Parameters without their own completion (paths, free text) fall back to file names."""
    if getattr(param, "is_flag", False):
        return False
    if getattr(param, "_custom_shell_complete", None) is not None:
        return False
    return not getattr(getattr(param, "type_descriptor", None), "is_choice", False)


def _shell_prefix(line: str, incomplete: str, breaks: str) -> int:
    """How many characters of ``incomplete`` the shell left out of the word it completes
    (bash splits ``--type=op`` at ``=`` and completes only ``op``)."""
    if not breaks or not incomplete:
        return 0
    shell_word = _dequote(*bash_word(line, breaks))
    if not incomplete.endswith(shell_word):
        return 0
    return len(incomplete) - len(shell_word)
