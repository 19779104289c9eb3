"""LocalResolver: keyring, then the hidden prompt, else missing; and the stdin readers."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from conductor_integrations.cli import prompts
from conductor_integrations.cli.prompts import TERMINAL
from conductor_integrations.documents import payload, reader
from conductor_integrations.documents.references import LocalResolver
from conductor_integrations.errors import InputError
from conductor_integrations.secrets import credentials, redact
from tests.conftest import MemoryKeyring


@pytest.fixture(autouse=True)
def fresh_credentials() -> Iterator[None]:
    credentials.reset()
    yield
    credentials.reset()


class Prompt:
    """Stands in for the terminal: answers hidden prompts and records them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answer: str, store_answer: str = "y\n") -> None:
        self.asked: list[str] = []
        self.answer = answer
        monkeypatch.setattr("getpass.getpass", self.getpass)
        monkeypatch.setattr(sys, "stdin", io.StringIO(store_answer))

    def getpass(self, prompt: str = "Password: ", stream: object = None) -> str:
        self.asked.append(prompt)
        return self.answer


def no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("prompted although no one can answer")

    monkeypatch.setattr("getpass.getpass", fail)


def test_missing_secret_comes_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] = "sk-from-ring-1"
    assert LocalResolver(interactive=False).missing_secret("openai-prod", "api_key") == "sk-from-ring-1"


def test_not_interactive_never_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    no_prompt(monkeypatch)
    assert LocalResolver(interactive=False).missing_secret("openai-prod", "api_key") is None


def test_interactive_follows_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert LocalResolver().interactive is False
    closed = io.StringIO("")
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    assert LocalResolver().interactive is False
    monkeypatch.setattr(sys, "stdin", None)
    assert LocalResolver().interactive is False


def test_prompt_and_store(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = Prompt(monkeypatch, "sk-typed-at-prompt", "y\n")
    resolver = LocalResolver(interactive=True, ask=TERMINAL)
    value = resolver.missing_secret("openai-prod", "api_key")
    assert value == "sk-typed-at-prompt"
    assert resolver.notes == ["stored openai-prod/api_key in the keyring"]  # the command prints it
    assert prompt.asked == ["api_key for openai-prod (input hidden, Enter to skip): "]
    assert memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] == "sk-typed-at-prompt"
    assert credentials.list_secrets() == [("openai-prod", "api_key")]
    assert redact.scrub("sk-typed-at-prompt") == redact.MASK
    err = capsys.readouterr().err
    assert "Store it in the keyring as openai-prod/api_key" in err
    assert "sk-typed-at-prompt" not in err


def test_prompts_show_control_characters_in_names_escaped(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """A document names the provider: its name is the document's text, shown escaped."""
    prompt = Prompt(monkeypatch, "sk-typed-at-prompt", "n\n")
    LocalResolver(interactive=True, ask=TERMINAL).missing_secret("evil\x1b]0;title\x07\u202e", "api_key")
    assert prompt.asked == ["api_key for evil\\x1b]0;title\\x07\\u202e (input hidden, Enter to skip): "]
    err = capsys.readouterr().err
    assert "keyring as evil\\x1b]0;title\\x07\\u202e/api_key" in err
    assert "\x1b" not in err and "\u202e" not in err


@pytest.mark.parametrize("answer", ["n\n", "no\n", ""])
def test_prompt_without_storing(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, answer: str
) -> None:
    Prompt(monkeypatch, "sk-typed-at-prompt", answer)
    assert (
        LocalResolver(interactive=True, ask=TERMINAL).missing_secret("p", "api_key") == "sk-typed-at-prompt"
    )
    assert memory_keyring.store == {}


def test_empty_answer_leaves_it_missing(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    Prompt(monkeypatch, "")
    assert LocalResolver(interactive=True, ask=TERMINAL).missing_secret("p", "api_key") is None
    assert memory_keyring.store == {}


def test_ctrl_d_at_the_prompt_leaves_it_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def eof(*args: object, **kwargs: object) -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof)
    assert LocalResolver(interactive=True, ask=TERMINAL).missing_secret("p", "api_key") is None


def test_absent_keyring_is_reported_once_with_the_ways_that_need_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    no_prompt(monkeypatch)
    resolver = LocalResolver(interactive=False)
    with pytest.raises(InputError) as first:
        resolver.missing_secret("a", "api_key")
    said = " ".join([first.value.message, *first.value.hints])
    assert "no keyring backend" in said
    assert "${env:VAR}" in said and "-c api_key=@file" in said and "stdin" in said
    assert "integ secret set" not in said
    with pytest.raises(InputError) as again:
        resolver.keyring("b", "password")
    assert again.value.message == "cannot read b/password: no usable keyring (said above)"
    assert again.value.hints == []


def test_missing_secret_without_keyring_does_not_ask_the_null_backend_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.backends.null

    keyring.set_keyring(keyring.backends.null.Keyring())
    resolver = LocalResolver(interactive=False)
    with pytest.raises(InputError, match="null backend"):
        resolver.keyring("a", "api_key")
    with pytest.raises(InputError, match="said above"):
        resolver.missing_secret("b", "api_key")


def test_keyring_failure_still_prompts_but_does_not_offer_to_store(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    Prompt(monkeypatch, "sk-typed-at-prompt", "y\n")
    assert (
        LocalResolver(interactive=True, ask=TERMINAL).missing_secret("p", "api_key") == "sk-typed-at-prompt"
    )
    assert sys.stdin.read() == "y\n"  # the store question was never asked


class StuckKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


def test_stuck_keyring_is_reported_with_the_deadline() -> None:
    """Given up on after the deadline, with the reason, instead of a silent miss."""
    ring = StuckKeyring()
    keyring.set_keyring(ring)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("INTEG_KEYRING_TIMEOUT", "0.2")
            with pytest.raises(InputError, match=r"did not answer within 0\.2 s"):
                LocalResolver(interactive=False).missing_secret("p", "api_key")
    finally:
        ring.release.set()


def test_keyring_reference(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[(credentials.SERVICE, "other/password")] = "pw-from-ring-1"
    assert LocalResolver(interactive=False).keyring("other", "password") == "pw-from-ring-1"
    assert LocalResolver(interactive=False).keyring("other", "api_key") is None


def test_keyring_reference_in_ci_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(InputError, match="turned off in CI"):
        LocalResolver(interactive=False).keyring("other", "password")


def test_build_uses_the_resolver_end_to_end(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[(credentials.SERVICE, "openai-prod/api_key")] = "sk-end-to-end"
    memory_keyring.store[(credentials.SERVICE, "shared/api_key")] = "sk-shared-1"
    [doc] = reader.parse_yaml(
        "name: openai-prod\ntype: openai\nconfiguration:\n  endpoint: ${keyring:shared/api_key}\n",
        "doc.yaml",
        Path.cwd(),
    )
    built = payload.build(None, doc, None, LocalResolver(interactive=False))
    assert built.errors == []
    assert built.configuration == {"endpoint": "sk-shared-1", "api_key": "sk-end-to-end"}
    assert {"sk-end-to-end", "sk-shared-1"} <= built.secret_values


# -- reading a secret from stdin ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("abc\n", "abc"), ("abc", "abc"), ("abc\r\n", "abc"), ("abc\n\n", "abc\n"), (" a b \n", " a b ")],
)
def test_read_stdin_secret_drops_one_newline(text: str, value: str) -> None:
    assert prompts.read_stdin_secret(io.StringIO(text)) == value


@pytest.mark.parametrize("text", ["", "\n"])
def test_read_stdin_secret_refuses_empty(text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        prompts.read_stdin_secret(io.StringIO(text), what="p/api_key")


def test_read_stdin_secret_closed() -> None:
    stream = io.StringIO("x")
    stream.close()
    with pytest.raises(InputError, match="closed"):
        prompts.read_stdin_secret(stream)
