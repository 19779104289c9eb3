"""A command group that imports a subcommand's module only when the subcommand is used.

The root of ``integ`` knows each of its subcommands by name and short help (an ``Entry``);
the module that defines one is imported, and its part of the tree built, when the command
line names it, or when something walks the whole tree (the man pages do: the full tree is
still ``typer.main.get_command(app)``). ``integ --help`` and completing a command name list
the entries without importing any of their modules.
"""

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, ClassVar, NamedTuple

import typer


class Entry(NamedTuple):
    """A subcommand the root knows without importing it."""

    name: str
    #: The module whose ``register(root: typer.Typer)`` adds the command ``name`` to ``root``.
    module: str
    #: What ``--help`` lists beside the name: the command's help up to its first full stop
    #: (``get_short_help_str`` of the built command; a test holds the two together).
    help: str
    hidden: bool = False


class LazyCommands(MutableMapping[str, Any]):
    """The subcommands of a group by name, in order: those in ``entries`` are built by
    ``build`` the first time they are looked up; ``given`` ones are there from the start."""

    def __init__(self, entries: Iterable[Entry], build: Callable[[Entry], Any], given: Mapping[str, Any]):
        self._entries = {e.name: e for e in entries}
        self._build = build
        self._built: dict[str, Any] = dict(given)
        self._order = list(dict.fromkeys([*self._entries, *given]))
        self._summaries = False

    @contextlib.contextmanager
    def summaries(self) -> Iterator[None]:
        """While inside, a command not built yet is looked up as a stand-in with its name,
        short help and visibility only (what listing the commands needs), and stays unbuilt."""
        before, self._summaries = self._summaries, True
        try:
            yield
        finally:
            self._summaries = before

    def __getitem__(self, name: str) -> Any:
        if name in self._built:
            return self._built[name]
        entry = self._entries[name]  # KeyError: no such command
        if self._summaries:
            return typer.core.TyperCommand(name, help=entry.help, hidden=entry.hidden)
        command = self._built[name] = self._build(entry)
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        if name not in self._order:
            self._order.append(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(name)
        self._order.remove(name)
        self._entries.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def built(self) -> list[str]:
        """The names built so far (for tests and benchmarks)."""
        return [n for n in self._order if n in self._built]


class LazyGroup(typer.core.TyperGroup):
    """A ``TyperGroup`` whose ``entries`` are imported and built on first use. Use it as
    ``typer.Typer(cls=...)`` on a subclass that sets ``entries``; the group's own callback
    and options (on the root: ``--version`` and whatever else it declares) work as ever."""

    entries: ClassVar[tuple[Entry, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.lazy = LazyCommands(self.entries, self._build, self.commands)
        self.commands = self.lazy

    def _build(self, entry: Entry) -> Any:
        holder = _registered(entry.module, self.rich_markup_mode, self.suggest_commands)
        return typer.main.get_group(holder).commands[entry.name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with self.lazy.summaries():
            super().format_commands(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self.lazy.summaries():
            return super().shell_complete(ctx, incomplete)


@functools.cache
def _registered(module: str, rich_markup_mode: Any, suggest_commands: bool) -> typer.Typer:
    """A Typer holding what ``module.register`` adds, with the root's settings (those a
    parent passes down to its subcommands when Typer builds them); once per process, as
    registering may extend the module's own sub-app."""
    holder = typer.Typer(rich_markup_mode=rich_markup_mode, suggest_commands=suggest_commands)
    importlib.import_module(module).register(holder)
    return holder
