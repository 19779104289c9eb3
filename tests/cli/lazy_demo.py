"""A command module for tests/cli/test_lazy.py: ``hello`` reads the root's ``--loud``."""

import typer

LOUD = {"on": False}


def register(root: typer.Typer) -> None:
    root.command("hello")(hello)


def hello(name: str) -> None:
    """Say hello. Nothing more."""
    print(f"HELLO {name.upper()}" if LOUD["on"] else f"hello {name}")
