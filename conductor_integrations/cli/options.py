"""The settings of ``settings.SETTINGS`` as command-line options, and the command classes
that carry them.

Every option here is made from one declaration in ``settings.SETTINGS`` (flags, value name,
help, default, environment variable); nothing about a setting is written twice.

- ``RootGroup`` (the class of ``integ`` itself) takes every setting's flag, so that global
  flags may come before the subcommand: ``integ --server local -o json provider list``.
- ``OutputCommand`` takes the settings on every command (``--profile``, ``-o``,
  ``--no-color``, ``--debug``); ``ServerCommand`` adds the connection settings
  (``--server``, ``--token``, ``--timeout`` ...). So the same flags also work after the
  subcommand: ``integ provider list --server local -o json``. Given in both places, the one
  after the subcommand wins.
- ``Command`` (the base of both) shows plain value names in the usage line (``NAME``,
  ``KEY=VALUE...``, ``[PATH]...``).

The options do not reach the command's function (its signature is only its own options):
each one records its value in the run's ``Invocation`` (``ctx.obj``), which
``common.settings(ctx)`` resolves once per run.
"""

import os
from collections.abc import Callable
from typing import Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from conductor_integrations import config

#: ``--server`` given without a URL (``integ types list --server``): use the configured one.
CONFIGURED_SERVER = "@configured"

_TYPES: dict[str, type] = {"str": str, "float": float, "int": int}


class Invocation:
    """One run of integ: the settings given as flags (by setting name, only those given,
    before or after the subcommand) and, once resolved, the settings themselves."""

    def __init__(self) -> None:
        self.flags: dict[str, Any] = {}
        self.settings: Optional[config.Settings] = None


def invocation(ctx: typer.Context) -> Invocation:
    """The ``Invocation`` of the run ``ctx`` belongs to (made on first use)."""
    return ctx.ensure_object(Invocation)


def _record(ctx: typer.Context, param: Any, value: Any) -> Any:
    """Callback of every setting's option: keep a given value (the last one given wins, so
    a flag after the subcommand wins over the same flag before it)."""
    found = invocation(ctx)
    if value is None or value is False:
        return value
    spec = config.SPEC_BY_NAME[param.name]
    if spec.choices and value not in spec.choices:
        raise typer.BadParameter(f"choose from {', '.join(spec.choices)}")
    found.flags[spec.name] = value
    return value


def _configure_output(flags: dict[str, Any]) -> None:
    from conductor_integrations import output

    debug_env = os.environ.get("INTEG_DEBUG", "")
    debug = bool(flags.get("debug")) or config.env_is_true(config.SPEC_BY_NAME["debug"], debug_env)
    output.configure(no_color=bool(flags.get("no_color")), debug=debug)


def _completer(spec: config.SettingSpec) -> Optional[Callable[..., list[str]]]:
    """The shell completion of a setting's value (``complete_values``), if it has one."""
    from conductor_integrations.cli import complete_values

    complete = {"output": complete_values.complete_output, "profile": complete_values.complete_profile}
    found = complete.get(spec.name)
    if found is None:
        return None
    return lambda ctx, args, incomplete: found(ctx, incomplete)


def option_help(spec: config.SettingSpec) -> str:
    """The option's help: the setting's help, its environment variable and its default."""
    extra = [f"env: {spec.env}"] if spec.env else []
    default = config.shown_default(spec)
    if default:
        extra.append(f"default: {default}")
    return spec.help + (f"  [{'; '.join(extra)}]" if extra else "")


def setting_option(spec: config.SettingSpec) -> TyperOption:
    """The option of one setting. Its value goes to the run's ``Invocation``, not to the
    command's function; the environment and the profile are read later, by
    ``config.resolve`` (so that ``integ config show`` can say where each value came from)."""
    flag = spec.kind == "bool"
    return TyperOption(
        param_decls=[*spec.flags, spec.name],
        type=None if flag else _TYPES[spec.kind],
        is_flag=flag or None,
        default=False if flag else None,
        metavar=spec.metavar,
        help=option_help(spec),
        callback=_record,
        expose_value=False,
        autocompletion=_completer(spec),
        rich_help_panel=spec.panel,
    )


def setting_options(everywhere_only: bool) -> list[TyperOption]:
    """The options of the settings on every command, or of every setting with a flag."""
    return [
        setting_option(spec)
        for spec in config.SETTINGS
        if spec.flags and (spec.everywhere or not everywhere_only)
    ]


def command_start(argv: list[str]) -> int:
    """Where the subcommand starts in ``argv``: after the global options before it
    (``integ -o json --server URL types list``: 4)."""
    takes_value = {f for s in config.SETTINGS if s.kind != "bool" for f in s.flags}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        i += 2 if argv[i] in takes_value else 1
    return min(i, len(argv))


def usage_name(param: Any) -> str:
    """An argument as the usage line shows it: ``NAME``, ``[NAME]``, ``KEY=VALUE...``."""
    name = str(param.metavar or str(param.name).upper()).removesuffix("...")
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


class Command(TyperCommand):
    """A command whose usage line names its arguments plainly (``integ model get [OPTIONS]
    PROVIDER MODEL``), without the braces Typer puts around required ones."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(usage_name(param))
        return pieces

    def invoke(self, ctx: Any) -> Any:
        from conductor_integrations import startup
        from conductor_integrations.errors import Interrupted

        startup.resume()
        _configure_output(invocation(ctx).flags)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Typer would turn it into a silent exit 130; say it, as every error is said.
            raise Interrupted("interrupted") from None


class OutputCommand(Command):
    """A command with the settings every command takes: ``--profile``, ``-o/--output``,
    ``--no-color``, ``--debug``."""

    everywhere_only = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(setting_options(self.everywhere_only))


class ServerCommand(OutputCommand):
    """A command that talks to a server: every setting's flag (``--server``, ``--token``,
    ``--key-id``, ``--timeout``, ``--retries``, ``--ca-bundle``, ``--insecure`` and those of
    ``OutputCommand``)."""

    everywhere_only = False


class RootGroup(TyperGroup):
    """``integ`` itself: every setting's flag, accepted before the subcommand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(setting_options(everywhere_only=False))
