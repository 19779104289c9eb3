"""Commands of `integ` (to be filled in)."""

import typer


def register(root: typer.Typer) -> None:
    """Add this module's commands to `root`."""
