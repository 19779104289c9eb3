"""The embedded table against the reference page, row by row."""

from __future__ import annotations

import re

import pytest

from conductor_integrations.types import builtin
from tests.conftest import FIXTURES

PAGE = (FIXTURES / "reference" / "create-or-update-integration-provider.txt").read_text("utf-8")

# Categories as the Conductor API facts give them (section 3.2), independent of the table.
EXPECTED_CATEGORY = {
    **dict.fromkeys(
        [
            "ollama",
            "azure_openai",
            "openai",
            "perplexity",
            "grok",
            "cohere",
            "mistral",
            "anthropic",
            "vertex_ai",
            "vertex_ai_gemini",
            "huggingface",
            "aws_bedrock_anthropic",
            "aws_bedrock_cohere",
            "aws_bedrock_titan",
        ],
        "AI_MODEL",
    ),
    **dict.fromkeys(["pineconedb", "weaviatedb", "pgvectordb", "mongovectordb"], "VECTOR_DB"),
    **dict.fromkeys(
        ["amqp", "kafka", "nats", "aws_sqs", "azure_service_bus", "gcp_pubsub", "ibm_mq"],
        "MESSAGE_BROKER",
    ),
    "aws": "CLOUD",
    "gcp": "CLOUD",
    "relational_db": "RELATIONAL_DB",
    "git": "GIT",
    "sendgrid": "EMAIL",
}
CONTRACT_SECRETS = {
    "api_key",
    "password",
    "awsAccountId",
    "externalId",
    "schemaRegistryApiSecret",
    "keyStorePassword",
    "file",
    "tlsFile",
}


def page_types() -> list[str]:
    """The supported values listed under `type`, in page order."""
    section = PAGE.split("Supported values:", 1)[1].split("category", 1)[0]
    return re.findall(r"•\s*(\S+)", section)


def page_rows() -> dict[str, dict[str, str]]:
    """Each row of 'Configuration keys by integration type': the text after the type name,
    and for the AWS rows the rules block and the separate optional column."""
    names = sorted(page_types(), key=len, reverse=True)
    table = PAGE.split("ParameterRequired keysOptional keys", 1)[1].split("For example", 1)[0]
    rows: dict[str, dict[str, str]] = {}
    current: str | None = None
    in_rules = False
    for line in (raw.strip() for raw in table.splitlines()):
        if not line:
            continue
        if line.startswith("Based on the connectionType"):
            in_rules = True
            continue
        if in_rules and line.startswith("•"):
            rows[current]["rules"] += line + "\n"  # type: ignore[index]
            continue
        if in_rules:  # the line after the rules is the Optional column of that row
            rows[current]["optional"] = line  # type: ignore[index]
            in_rules = False
            continue
        name = next(n for n in names if line.startswith(n))
        current = name
        rows[name] = {"cells": line[len(name) :], "rules": "", "optional": ""}
    return rows


def keys_text(keys: tuple[str, ...]) -> str:
    return ",".join(keys)


def test_page_lists_thirty_types_and_table_has_them_all() -> None:
    types = page_types()
    assert len(types) == 30
    assert list(builtin.table().types) == types
    assert set(page_rows()) == set(types)


@pytest.mark.parametrize("name", page_types())
def test_row_matches_page(name: str) -> None:
    """Each key of the page's row is in the right column of the table."""
    row = page_rows()[name]
    ptype = builtin.table().types[name]
    cells = row["cells"].replace(" ", "")
    if ptype.page_row == "aws":
        assert cells == keys_text(ptype.required)
        assert row["optional"] == keys_text(ptype.optional)
        rules = dict(re.findall(r"•\s*(\w+): (.*)", row["rules"]))
        assert set(rules) == set(ptype.conditional["connectionType"])
        for value, keys in ptype.conditional["connectionType"].items():
            for key in keys:
                assert key in rules[value]
        assert "No additional keys" in rules["CONDUCTOR_ROLE"]
    elif ptype.page_row == "dash":
        assert cells == keys_text(ptype.required) + "-"
        assert ptype.optional == ()
    elif ptype.page_row == "one":
        # A single key column: read as the Required column (see _reading in the data file).
        assert cells == keys_text(ptype.required)
        assert ptype.optional == ()
    else:
        assert ptype.page_row == "two"
        assert cells == keys_text(ptype.required) + keys_text(ptype.optional)
        assert ptype.optional, "a two-column row has optional keys"


@pytest.mark.parametrize("name", page_types())
def test_category(name: str) -> None:
    assert builtin.table().types[name].category == EXPECTED_CATEGORY[name]


def test_secret_keys_are_the_contracts() -> None:
    assert builtin.table().secret_keys == CONTRACT_SECRETS
    assert builtin.table().types["openai"].secret_keys == ("api_key",)
    assert builtin.table().types["aws"].secret_keys == ("api_key", "externalId", "awsAccountId")


def test_aws_family_has_the_connection_type_rules() -> None:
    aws = {n for n, t in builtin.table().types.items() if t.conditional}
    assert aws == {"aws_bedrock_anthropic", "aws_bedrock_cohere", "aws_bedrock_titan", "aws_sqs", "aws"}


def test_pinecone_project_name_is_resolved_by_server() -> None:
    pinecone = builtin.table().types["pineconedb"]
    assert "projectName" in pinecone.required  # as the page lists it
    assert pinecone.effective_required == ("api_key", "environment")


def test_the_reading_is_written_down_beside_the_data() -> None:
    reading = " ".join(builtin.table().reading)
    assert "single key column" in reading and "Required column" in reading


@pytest.mark.parametrize(
    ("given", "expected"),
    [("OpenAI", ["openai"]), ("antropic", ["anthropic"]), ("pinecone", ["pineconedb"]), ("zzzz", [])],
)
def test_closest_type_names(given: str, expected: list[str]) -> None:
    assert builtin.table().closest(given)[:1] == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [("apiKey", "api_key"), ("API_KEY", "api_key"), ("endpont", "endpoint"), ("qqqq", None)],
)
def test_closest_key(key: str, expected: str | None) -> None:
    assert builtin.closest_key(key, ("api_key", "endpoint", "organizationId")) == expected


def test_field_types() -> None:
    aws = builtin.table().types["aws"]
    assert builtin.field_type(aws, "connectionType") == "DROPDOWN"
    assert builtin.field_type(aws, "api_key") == "PASSWORD"
    assert builtin.field_type(aws, "region") == "TEXT"
    gcp = builtin.table().types["gcp"]
    assert builtin.field_type(gcp, "file") == "FILE"
