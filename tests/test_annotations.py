"""GitHub Actions workflow commands for validation problems: format, escaping, limits, and
when they are printed (``GITHUB_ACTIONS=true``, not ``INTEG_ANNOTATIONS=0``)."""

from __future__ import annotations

import pytest

from conductor_integrations.errors import Problem
from conductor_integrations.output import github


def problem(message: str = "kafka requires 'protocol'", severity: str = "error", **kw: object) -> Problem:
    fields: dict[str, object] = {
        "path": "configuration.protocol",
        "source": "fleet/kafka.yaml",
        "line": 4,
        "provider": "p-kafka",
    }
    fields.update(kw)
    return Problem(message=message, severity=severity, **fields)  # type: ignore[arg-type]


def test_one_error_is_one_workflow_command_on_its_line() -> None:
    assert github.lines([problem()]) == [
        "::error file=fleet/kafka.yaml,line=4,title=integ::provider p-kafka: "
        "configuration.protocol: kafka requires 'protocol'"
    ]


def test_warning_and_second_document_of_a_file() -> None:
    [line] = github.lines([problem("unknown key 'x' for kafka", "warning", source="all.yaml#2")])
    assert line.startswith("::warning file=all.yaml,line=4,title=integ::")


def test_problem_without_file_or_line_has_no_such_property() -> None:
    [line] = github.lines([problem(source="command line", line=None, provider="")])
    assert line == "::error title=integ::configuration.protocol: kafka requires 'protocol'"


def test_data_and_properties_are_escaped() -> None:
    [line] = github.lines(
        [problem("50% off\r\nnext::error::fake", source="a,b:c%.yaml", provider="x\x1b[31m")]
    )
    assert line.startswith("::error file=a%2Cb%3Ac%25.yaml,line=4,title=integ::")
    assert "50%25 off%0D%0Anext::error::fake" in line
    assert "\x1b" not in line and "\r" not in line and "\n" not in line


def test_at_most_ten_of_each_then_how_many_more() -> None:
    errors = [problem(f"e{i}") for i in range(13)]
    warnings = [problem(f"w{i}", "warning") for i in range(11)]
    out = github.lines(errors + warnings)
    assert sum(line.startswith("::error ") for line in out) == 10
    assert sum(line.startswith("::warning ") for line in out) == 10
    assert (
        out[-1]
        == "::notice title=integ::3 more errors and 1 more warning not annotated; the log lists every problem"
    )


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({"GITHUB_ACTIONS": "true"}, True),
        ({"GITHUB_ACTIONS": "true", "INTEG_ANNOTATIONS": "0"}, False),
        ({"GITHUB_ACTIONS": "true", "INTEG_ANNOTATIONS": "1"}, True),
        ({}, False),
        ({"GITHUB_ACTIONS": "false"}, False),
    ],
)
def test_enabled_only_under_github_actions(env: dict[str, str], on: bool) -> None:
    assert github.enabled(env) is on
