"""The arguments and options several commands declare alike (``Annotated`` aliases for
Typer, and the factories of the ones whose help differs from command to command)."""

from typing import Annotated, Any, Callable, Optional

import typer

from conductor_integrations.cli import complete_values
from conductor_integrations.cli.common import path_name


def provider_argument(
    help: str = "The provider's name.", *, metavar: str = "NAME", checked: bool = True
) -> Any:
    """An argument naming one provider or several, completed from the providers seen;
    ``checked``: a name that would not stay one segment of the request path is exit 2."""
    return typer.Argument(
        metavar=metavar,
        help=help,
        autocompletion=complete_values.complete_provider_name,
        callback=path_name if checked else None,
    )


def category_option(help: str, callback: Optional[Callable[..., Any]] = None) -> Any:
    """``--category CATEGORY``, completed from the known categories."""
    return typer.Option(
        "--category",
        metavar="CATEGORY",
        help=help,
        callback=callback,
        autocompletion=complete_values.complete_category,
    )


def missing_ok_option(what: str) -> Any:
    """``--missing-ok`` of ``delete``: a ``what`` that does not exist is not an error."""
    return typer.Option("--missing-ok", help=f"A {what} that does not exist is not an error.")


def active_only_option(what: str) -> Any:
    """``--active-only`` of ``list``: only the enabled ``what`` (plural)."""
    return typer.Option("--active-only", help=f"Only enabled {what} (default: all of them).")


#: The NAME of one provider (``provider get``, ``provider tag ...``).
ProviderName = Annotated[str, provider_argument()]

#: Where documents are read from: PATH arguments, ``-f PATH`` options.
PathsArgument = Annotated[
    Optional[list[str]],
    typer.Argument(
        metavar="PATH",
        help="YAML/JSON files, folders (read recursively, hidden ones skipped) or - for stdin.",
        show_default=False,
    ),
]
PathsOption = Annotated[
    Optional[list[str]],
    typer.Option("--file", "-f", help="A PATH given as an option; repeatable.", metavar="PATH"),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Treat warnings (unknown keys ...) as errors.")]
