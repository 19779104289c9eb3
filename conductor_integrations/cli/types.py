"""``integ types``: the embedded table of provider types, and the server's own definitions
(``types list --server URL``, ``types diff``).

Offline (no ``--server`` on the command line) nothing heavy is imported: the client is
imported only when a server is asked.
"""

from typing import Annotated, Any, Optional

import typer

from conductor_integrations import output
from conductor_integrations.cli import complete_values
from conductor_integrations.cli.arguments import category_option
from conductor_integrations.cli.common import OutputCommand, ServerCommand, given, server_named, settings
from conductor_integrations.errors import ExitCode, InputError
from conductor_integrations.secrets import redact
from conductor_integrations.types import builtin

app = typer.Typer(help="The provider types integ knows, their keys and examples.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="types")


def type_record(ptype: builtin.ProviderType) -> dict[str, Any]:
    """A type as stable JSON/YAML data."""
    return {
        "type": ptype.name,
        "label": ptype.label,
        "category": ptype.category,
        "required": list(ptype.effective_required),
        "optional": [
            k for k in ptype.all_keys if k not in ptype.effective_required and k not in ptype.conditional_keys
        ],
        "conditional": {
            key: {value: list(keys) for value, keys in choices.items()}
            for key, choices in ptype.conditional.items()
        },
        "secret": list(ptype.secret_keys),
    }


def _check_category(category: Optional[str]) -> Optional[str]:
    if category is None:
        return None
    tbl = builtin.table()
    upper = category.upper()
    if upper not in tbl.known_categories:
        raise typer.BadParameter(f"choose from {', '.join(tbl.categories)}")
    return upper


def lookup(name: str) -> builtin.ProviderType:
    """The type called ``name``, or exit 3 with the closest names."""
    tbl = builtin.table()
    ptype = tbl.get(name)
    if ptype is None:
        close = tbl.closest(name)
        hints = [f"did you mean {' or '.join(close)}?"] if close else []
        hints.append("`integ types list` shows every type")
        raise InputError(f"unknown type {name!r}", hints=hints)
    return ptype


@app.command("list", cls=ServerCommand)
def list_types(
    ctx: typer.Context,
    category: Annotated[
        Optional[str],
        category_option("Only types of this category (AI_MODEL, VECTOR_DB ...).", _check_category),
    ] = None,
) -> None:
    """List the provider types, with their category and required keys.

    With --server URL (`local` for the sandbox), the types that server defines
    (GET /api/integrations/def) instead of the table built into integ.
    """
    s = settings(ctx)
    if given(ctx).get("server"):
        server_tbl = _fetch(s)
        types: list[Any] = [server_tbl.types[n] for n in server_tbl.names(category)]
    else:
        tbl = builtin.table()
        types = [tbl.types[n] for n in tbl.names(category)]
    records = [type_record(t) for t in types]
    rows = [
        {**r, "required": ", ".join(r["required"]) + (" + connectionType rules" if r["conditional"] else "")}
        for r in records
    ]
    output.records(
        rows,
        [("type", "TYPE"), ("category", "CATEGORY"), ("label", "NAME"), ("required", "REQUIRED KEYS")],
        machine=records,
    )


def _fetch(s: Any) -> Any:
    """The server's definitions (``remote.ServerTable``), fetched once."""
    from conductor_integrations import config
    from conductor_integrations.cli import connection

    config.require_server(s)
    with connection.connect(s) as client:
        return connection.server_types(client)


DIFF_COLUMNS = (
    ("type", "TYPE"),
    ("key", "KEY"),
    ("what", "DIFFERENCE"),
    ("integ", "INTEG"),
    ("server", "SERVER"),
)


@app.command("diff", cls=ServerCommand)
def diff_types(ctx: typer.Context) -> None:
    """Show where the server's type definitions differ from the table built into integ.

    Compares GET /api/integrations/def with the table: types only on one side, a type's
    category, keys only on one side, required/conditional/optional, and which keys are
    secret (PASSWORD or FILE fields). Exit 0: no differences; 1: differences.
    """
    from conductor_integrations.types import remote

    s = settings(ctx)
    where = server_named(s)
    found = remote.compare(builtin.table(), _fetch(s))
    records = [d.record() for d in found]
    if output.settings.format == "table":
        if records:
            output.table([{k: "-" if v is None else v for k, v in r.items()} for r in records], DIFF_COLUMNS)
    else:
        output.data(records)
    if not found:
        output.info(f"no differences: {where} defines the same types as integ's table")
        return
    types = len({d.type for d in found})
    output.info(
        f"{output.counted(len(found), 'difference')} in {output.counted(types, 'type')} "
        f"between integ's table and {where}"
    )
    raise typer.Exit(int(ExitCode.DIFFERENCES))


@app.command("schema", cls=ServerCommand)
def schema_command(
    ctx: typer.Context,
    server_types: Annotated[
        bool,
        typer.Option(
            "--server-types",
            help="Build it from the server's own type definitions (GET /api/integrations/def) "
            "instead of the table built into integ; needs a server (--server URL).",
        ),
    ] = False,
) -> None:
    """Print a JSON Schema (draft 2020-12) for provider documents.

    It accepts one document or a list of them, with each type's required keys, the AWS
    connectionType rules, the keys each type accepts (others are errors, as with
    `validate --strict`), `models:` and `tags:`. Like `validate --offline`, it does not
    require a secret the document leaves out. Write it to a file and point your editor at
    it: `integ types schema > integ.schema.json`, then
    `# yaml-language-server: $schema=integ.schema.json` on top of each document.
    """
    from conductor_integrations.documents import schema

    s = settings(ctx)
    table: Any = _fetch(s) if server_types else builtin.table()
    output.data(schema.build(table), "yaml" if output.settings.format == "yaml" else "json")


@app.command("show", cls=OutputCommand)
def show(
    ctx: typer.Context,
    type_name: Annotated[
        str,
        typer.Argument(
            metavar="TYPE", help="Provider type, e.g. openai.", autocompletion=complete_values.complete_type
        ),
    ],
    example: Annotated[
        bool, typer.Option("--example", help="Print an example YAML document for this type instead.")
    ] = False,
) -> None:
    """Show the configuration keys of one type (which are required, which are secret)."""
    settings(ctx)
    ptype = lookup(type_name)
    if example:
        output.text(example_document(ptype))
        return
    record = type_record(ptype)
    if output.settings.format != "table":
        output.data(record)
        return
    docs = builtin.table().key_docs
    rows = []
    for key in ptype.all_keys:
        if key in ptype.effective_required:
            need = "yes"
        elif key in ptype.conditional_keys:
            need = "conditional"
        else:
            need = "no"
        rows.append(
            {
                "key": key,
                "required": need,
                "secret": "yes" if builtin.is_secret_key(key) else "no",
                "description": docs.get(key, {}).get("description", ""),
            }
        )
    output.text(f"{ptype.name}: {ptype.label} ({ptype.category})")
    output.table(
        rows, [("key", "KEY"), ("required", "REQUIRED"), ("secret", "SECRET"), ("description", "DESCRIPTION")]
    )
    for key, choices in ptype.conditional.items():
        output.text(f"{key} must be one of:")
        for value, keys in choices.items():
            output.text(f"  {value}: " + (f"requires {', '.join(keys)}" if keys else "nothing more"))
    for key in ptype.resolved_by_server:
        output.text(f"{key} is optional: the server resolves it.")
    output.text(f"Example: integ types show {ptype.name} --example > {ptype.name}.yaml")


def example_document(ptype: builtin.ProviderType) -> str:
    """A YAML document for ``ptype`` that ``integ validate`` accepts once the ``<...>``
    placeholders are filled in. Secret keys read from the environment."""
    docs = builtin.table().key_docs
    config: dict[str, str] = {}
    comments: dict[str, str] = {}
    keys = list(ptype.effective_required)
    for choices in ptype.conditional.values():
        first = next(iter(choices))
        keys.extend(k for k in choices[first] if k not in keys)
    for key in keys:
        if key in ptype.conditional:
            config[key] = next(iter(ptype.conditional[key]))
            comments[key] = "one of " + ", ".join(ptype.conditional[key])
        elif key in builtin.table().file_keys:
            config[key] = "${file:service-account.json}"
            comments[key] = "secret: read from a file beside this one"
        elif builtin.is_secret_key(key):
            var = f"{ptype.name}_{key}".upper()
            config[key] = "${env:" + var + "}"
            comments[key] = f"secret: export {var}, or use ${{keyring}} after `integ secret set`"
        else:
            config[key] = docs.get(key, {}).get("example", f"<{key.upper()}>")
    lines = [
        f"# {ptype.label} ({ptype.category}). Fill in the <...> placeholders, then:",
        f"#   integ validate {ptype.name}.yaml && integ provider apply -f {ptype.name}.yaml",
        f"name: my-{ptype.name.replace('_', '-')}",
        f"type: {ptype.name}",
        f"description: {ptype.label} provider",
        "enabled: true",
        "configuration:",
    ]
    for key, value in config.items():
        comment = f"  # {comments[key]}" if key in comments else ""
        lines.append(f"  {key}: {_yaml_scalar(value)}{comment}")
    optional = [k for k in ptype.all_keys if k not in config]
    for key in optional:
        example = docs.get(key, {}).get("example", "")
        lines.append(f"  # {key}: {_yaml_scalar(example)}  # optional")
    return redact.scrub("\n".join(lines) + "\n")


def _yaml_scalar(value: str) -> str:
    import json

    if value == "" or any(c in value for c in ":#{}[],&*!|>'\"%@`") or value.strip() != value:
        return json.dumps(value)
    return value
