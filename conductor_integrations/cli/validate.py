"""``integ validate``: check provider documents offline, reporting every problem at once;
with ``--server-types``, against the server's own type definitions (the one request made)."""

from typing import Annotated, Any

import typer

from conductor_integrations import output
from conductor_integrations.cli.arguments import PathsArgument, PathsOption, StrictOption
from conductor_integrations.cli.common import (
    AllowOutsideFiles,
    ServerCommand,
    local_resolver,
    require_paths,
    settings,
)
from conductor_integrations.cli.problem_render import problem_record, report_prepared, report_problems
from conductor_integrations.documents import pipeline, reader
from conductor_integrations.errors import ExitCode

__all__ = ["problem_record", "report_prepared", "report_problems", "validate_command"]


def register(root: typer.Typer) -> None:
    root.command("validate", cls=ServerCommand)(validate_command)


def validate_command(
    ctx: typer.Context,
    paths: PathsArgument = None,
    files: PathsOption = None,
    strict: StrictOption = False,
    server_types: Annotated[
        bool,
        typer.Option(
            "--server-types",
            help="Check against the server's own type definitions (GET /api/integrations/def) "
            "instead of the table built into integ; needs a server (--server URL).",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Check structure, types, keys and reference syntax only: no reference is "
            "resolved (no variable need be set, no file is read, the keyring is not touched) "
            "and no secret is required. For pull requests and pre-commit.",
        ),
    ] = False,
    allow_outside_files: AllowOutsideFiles = False,
) -> None:
    """Check provider documents against the provider types, offline.

    References (${env:...}, ${file:...}, ${keyring}) are resolved exactly as `provider put`
    and `provider apply` would; nothing is sent. With --offline nothing is resolved and no
    secret is needed. Exit 0 when every document is valid, 3 otherwise. Documents may carry
    `models:` and `tags:`; their shape is checked too. Placeholders left from `integ types
    show TYPE --example` (`<HOST>`) are errors.
    """
    given = [*(paths or ()), *(files or ())]
    require_paths(given)
    s = settings(ctx)
    docs = reader.load_all(given, output.info)
    types = None
    if server_types:
        from conductor_integrations import config
        from conductor_integrations.cli import connection

        config.require_server(s)
        with connection.connect(s) as client:
            types = connection.server_types(client)
    resolver: Any
    if offline:
        from conductor_integrations.documents.references import OfflineResolver

        resolver = OfflineResolver()
    else:
        resolver = local_resolver(allow_outside_files, interactive=False)
    prepared = pipeline.from_documents(docs, resolver, pipeline.Options(types, strict, offline=offline))
    payloads, problems, errors = prepared.payloads, prepared.problems, prepared.errors
    if output.settings.format != "table":
        output.data(
            {
                "valid": not errors,
                "documents": [
                    {
                        "source": p.document.label if p.document else "",
                        "name": p.name,
                        "type": p.type,
                        "valid": not p.errors,
                        "problems": [problem_record(x) for x in p.problems],
                    }
                    for p in payloads
                ],
            }
        )
    report_prepared(prepared)
    bad = sum(1 for p in payloads if p.errors)
    if not payloads:
        output.warning("no provider documents found")
    summary = f"{output.counted(len(payloads), 'provider')} checked"
    if bad:
        output.info(f"{summary}: {bad} invalid, {output.counted(len(errors), 'error')}")
        raise typer.Exit(int(ExitCode.INVALID))
    output.info(f"{summary}: all valid" + (f" ({len(problems)} warnings)" if problems else ""))
