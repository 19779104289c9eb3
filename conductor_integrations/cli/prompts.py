"""Questions put to a person at the terminal: the hidden prompt for a secret, a yes/no
question, and the whole of stdin read as a secret (``stdin_is_terminal`` says whether anyone
can be asked). ``TERMINAL`` is what ``LocalResolver`` is handed to ask for a missing secret."""

import sys
from typing import Optional, TextIO

from conductor_integrations import output
from conductor_integrations.documents.references import stdin_is_terminal as stdin_is_terminal
from conductor_integrations.errors import InputError
from conductor_integrations.secrets import redact


def read_hidden(prompt: str) -> str:
    """Ask for a secret on the terminal without echoing it. Ctrl-C interrupts the command;
    Ctrl-D gives an empty answer."""
    import getpass

    try:
        value = getpass.getpass(output.escape_controls(prompt))  # names in it are a document's
    except EOFError:
        value = ""
    redact.register(value)
    return value


def read_stdin_secret(stream: Optional[TextIO] = None, what: str = "the secret") -> str:
    """The whole of stdin as a secret, one trailing newline dropped; refused when empty."""
    stream = sys.stdin if stream is None else stream
    if stream is None or stream.closed:
        raise InputError(f"no value for {what}: stdin is closed")
    value = stream.read()
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    redact.register(value)
    if not value:
        raise InputError(f"no value for {what}: stdin was empty", hints=["pipe the value on stdin"])
    return value


def ask_yes_no(question: str, default: bool = True) -> bool:
    """A yes/no question on the terminal (stderr for the question, stdin for the answer)."""
    suffix = " [Y/n] " if default else " [y/N] "
    sys.stderr.write(output.escape_controls(question) + suffix)
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    if not answer:  # end of input
        return False
    answer = answer.strip().lower()
    return default if not answer else answer in ("y", "yes")


class Terminal:
    """The person at the terminal, as ``LocalResolver`` asks them (``references.Ask``)."""

    def hidden(self, prompt: str) -> str:
        return read_hidden(prompt)

    def yes_no(self, question: str) -> bool:
        return ask_yes_no(question)


TERMINAL = Terminal()
