"""``integ provider``: put, get, list and delete providers on a server."""

import typer

app = typer.Typer(help="Create, read, list and delete integration providers.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="provider")
