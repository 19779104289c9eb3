"""The reference page's curl examples, read from the page itself and sent with curl."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

PAGE = Path(__file__).parents[1] / "fixtures" / "reference" / "create-or-update-integration-provider.txt"
CURL = shutil.which("curl")


def page_examples() -> list[list[str]]:
    """Each ``curl ...`` example of the page as an argument list (two on this page)."""
    text = PAGE.read_text("utf-8")
    blocks = re.findall(r"^curl .*?\}'$", text, flags=re.MULTILINE | re.DOTALL)
    return [shlex.split(block.replace("\\\n", " ")) for block in blocks]


def send(example: list[str], base_url: str, token: str = "<TOKEN>") -> tuple[int, str]:
    """Send one example with curl to ``base_url`` (no /api); returns (status, body)."""
    assert CURL is not None
    args = [
        arg.replace("https://<YOUR-SERVER-URL>", base_url).replace("<TOKEN>", token) for arg in example[1:]
    ]
    done = subprocess.run(
        [CURL, "--silent", "--show-error", "--max-time", "30", "--write-out", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body
