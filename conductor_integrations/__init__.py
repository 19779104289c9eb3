"""Manage integration providers on an Orkes Conductor server."""

__version__ = "0.1.0"
