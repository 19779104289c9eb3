"""Validation problems as GitHub Actions workflow commands (``::error file=F,line=L,
title=integ::...``), so that a pull request shows each one on its line.

Printed by ``validate``, ``apply``, ``diff`` and ``put`` when ``GITHUB_ACTIONS=true``, unless
``INTEG_ANNOTATIONS=0``. The runner reads workflow commands from a step's stdout and
stderr alike: they go to stdout with table output and to stderr with ``-o json|yaml`` (so
that stdout stays one JSON or YAML document). GitHub shows at most 10 error and 10 warning
annotations per step: beyond that one notice says how many more there are.

Escaping follows GitHub's rules: ``%``, ``\\r`` and ``\\n`` in the message, and ``:`` and
``,`` too in properties; other control characters are written as visible escapes and
secrets are masked, as on every other output path.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping

from conductor_integrations.errors import Problem, shown_name

#: Annotations of each kind GitHub shows per step.
LIMIT = 10
_SECOND_DOCUMENT = re.compile(r"#\d+$")


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """True under GitHub Actions (``GITHUB_ACTIONS=true``) unless ``INTEG_ANNOTATIONS=0``."""
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true" and env.get("INTEG_ANNOTATIONS", "").strip() != "0"


def _clean(text: str) -> str:
    from conductor_integrations import output
    from conductor_integrations.secrets import redact

    return output.escape_controls(redact.scrub(text))


def escape_data(text: str) -> str:
    return _clean(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(p: Problem) -> str:
    """One problem as a workflow command."""
    props: list[str] = []
    if p.source and p.source != "command line":
        props.append("file=" + escape_property(_SECOND_DOCUMENT.sub("", p.source)))
        if p.line is not None:
            props.append(f"line={p.line}")
    props.append("title=integ")
    text = p.message + (f" ({p.hint})" if p.hint else "")
    if p.path:
        text = f"{p.path}: {text}"
    if p.provider:
        text = f"provider {shown_name(p.provider)}: {text}"
    kind = "error" if p.severity == "error" else "warning"
    return f"::{kind} {','.join(props)}::{escape_data(text)}"


def _count(n: int, noun: str) -> str:
    return f"{n} more {noun}{'s' if n != 1 else ''}"


def lines(problems: Iterable[Problem]) -> list[str]:
    """The workflow commands for ``problems``: at most ``LIMIT`` errors and ``LIMIT``
    warnings, then a notice saying how many more there are."""
    shown: list[str] = []
    left = {"error": 0, "warning": 0}
    taken = {"error": 0, "warning": 0}
    for p in problems:
        kind = "error" if p.severity == "error" else "warning"
        if taken[kind] < LIMIT:
            taken[kind] += 1
            shown.append(command(p))
        else:
            left[kind] += 1
    more = [_count(n, kind) for kind, n in left.items() if n]
    if more:
        shown.append(f"::notice title=integ::{' and '.join(more)} not annotated; the log lists every problem")
    return shown


def emit(problems: list[Problem]) -> None:
    """Print ``problems`` as workflow commands when annotations are on (see module doc)."""
    if not problems or not enabled():
        return
    from conductor_integrations import output

    stream = sys.stdout if output.settings.format == "table" else sys.stderr
    for line in lines(problems):
        stream.write(line + "\n")
    stream.flush()
