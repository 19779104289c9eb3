"""A server that echoes the request back in its error replies never shows a secret.

The server runs on loopback and answers every write with an error whose text carries what
it was sent: as a plain-text body (whitespace collapsed, cut at the length integ shows),
in ``message`` and ``validationErrors`` of a JSON body, and in an HTML page. The secret has
tabs, a newline and runs of spaces in it, so each normalisation changes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conductor_integrations.client import http_log, replies
from conductor_integrations.secrets import redact
from tests.hardening.fault_server import FaultServer, Reply, Request

SECRET = "correct horse\tbattery-staple  and\nmore-0042"


def pieces(value: str, size: int = 6) -> list[str]:
    """Every ``size``-character piece of ``value`` with at least 5 characters that are not
    whitespace (fewer could be ordinary words)."""
    found = [value[i : i + size] for i in range(len(value) - size + 1)]
    return [p for p in found if len("".join(p.split())) >= 5]


def shown_pieces(text: str, value: str) -> list[str]:
    flat = " ".join(text.split())
    return [p for p in pieces(value) if p in text or " ".join(p.split()) in flat]


def echoing(kind: str, pad: int = 0) -> Callable[[Request], Reply]:
    def answer(req: Request) -> Reply:
        if req.method == "GET":
            return Reply(404, {"message": "not found"})
        said = req.body.decode("utf-8")
        decoded = json.dumps(json.loads(req.body), ensure_ascii=False)
        # A JSON-decoded copy too: the secret with its real tab and newline.
        echo = "x" * pad + said + " decoded: " + json.loads(req.body)["configuration"]["password"] + decoded
        if kind == "text":
            return Reply(400, f"could not parse {echo}")
        if kind == "html":
            return Reply(400, f"<html><body><p>{echo}</p></body></html>", content_type="text/html")
        return Reply(
            400,
            {
                "message": f"rejected {echo}",
                "validationErrors": [{"path": "configuration.note", "message": echo, "invalidValue": echo}],
            },
        )

    return answer


@pytest.mark.parametrize("kind", ["text", "json", "html"])
@pytest.mark.parametrize("pad", [0, 40, 250, 280])
@pytest.mark.parametrize("fmt", [(), ("-o", "json"), ("--debug",)])
def test_echoed_request_shows_no_secret(
    integ: Any,
    serve: Callable[..., FaultServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
    kind: str,
    pad: int,
    fmt: tuple[str, ...],
) -> None:
    server = serve(echoing(kind, pad))
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(SECRET, "utf-8")
    monkeypatch.setenv("INTEG_RETRIES", "0")
    redact.forget_all()
    r = integ(
        "provider",
        "put",
        "db1",
        "-t",
        "relational_db",
        "-c",
        "datasourceURL=jdbc:postgresql://h/db",
        "-c",
        "user=u",
        "-c",
        f"password=@{secret_file}",
        "--no-validate",
        "--server",
        server.url,
        *fmt,
    )
    assert r.exit_code != 0
    text = r.stdout + r.stderr
    assert shown_pieces(text, SECRET) == [], text


def test_error_message_masks_before_it_collapses_and_cuts() -> None:
    redact.forget_all()
    redact.register(SECRET)
    for pad in range(270, 300):
        text = "e" * pad + " " + SECRET + " tail"
        message = replies.error_message(400, "Bad Request", "text/plain", text, replies.error_body(text))
        assert shown_pieces(message, SECRET) == [], (pad, message)
        assert len(message) <= 300
        # A cut never leaves part of a mask.
        assert "*" not in message.replace(redact.MASK, "")


def test_validation_values_are_masked_before_repr() -> None:
    redact.forget_all()
    redact.register("sk-'quoted'-0042")
    error = {"path": "x", "message": "m", "invalidValue": "\"sk-'quoted'-0042"}
    text = json.dumps({"message": "bad", "validationErrors": [error]})
    body = replies.error_body(text)
    assert "quoted" not in " ".join(body.validation_errors)


@pytest.mark.parametrize("pad", [3990, 3995, 3999])
def test_debug_log_cuts_a_long_body_after_masking(pad: int) -> None:
    redact.forget_all()
    redact.register(SECRET)
    shown = http_log.body_text("x" * pad + SECRET + "y" * 100)
    assert shown_pieces(shown, SECRET) == []
    kept = shown.split(" ... (")[0]
    assert "*" not in kept.replace(redact.MASK, "")
