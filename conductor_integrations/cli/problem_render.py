"""How problems found in documents and flags are shown: errors and warnings on stderr (and
as GitHub Actions workflow commands there), the pipeline's notes and warnings. Used by
``validate``, ``provider put``, ``provider apply|diff`` and ``model put``."""

from typing import TYPE_CHECKING, Any

from conductor_integrations import output
from conductor_integrations.errors import Problem

if TYPE_CHECKING:
    from conductor_integrations.documents.pipeline import Prepared


def problem_record(p: Problem) -> dict[str, Any]:
    return {
        "source": p.source,
        "line": p.line,
        "provider": p.provider,
        "path": p.path,
        "severity": p.severity,
        "message": p.message,
        "hint": p.hint,
    }


def report_prepared(prepared: "Prepared") -> None:
    """What the pipeline found: its secrets registered (never printed), its warnings and
    then its problems printed."""
    from conductor_integrations.secrets import redact

    for p in prepared.payloads:
        redact.register(*p.secret_values)
    for line in prepared.notes:
        output.info(line)
    for line in prepared.warnings:
        output.warning(line)
    report_problems(prepared.problems)


def report_problems(problems: list[Problem]) -> None:
    """Print problems to stderr, errors first within each document; under GitHub Actions
    also as workflow commands (``annotations``)."""
    if not problems:  # nothing to annotate: the workflow-command module is not loaded
        return
    from conductor_integrations.output import github

    for p in problems:
        if p.severity == "error":
            output.error(p.render())
        else:
            output.warning(p.render())
    github.emit(problems)
