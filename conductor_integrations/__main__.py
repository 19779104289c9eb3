"""``python -m conductor_integrations`` and the ``integ`` console script.

``integ --version`` is answered here, before the command tree (and Typer) is imported:
scripts ask it often, and it needs nothing else.

Every other run starts and ends through ``startup``: the collector paused while the command
tree is imported, and ``startup.leave()`` at the end, without the interpreter's teardown.
"""

import sys


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"] and sys.stdout is not None:
        from conductor_integrations import __version__

        try:
            sys.stdout.write(f"integ {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # as every command: exit 1, silently
            from conductor_integrations.startup import quiet_stdout

            quiet_stdout()
            sys.exit(1)
        sys.exit(0)
    from conductor_integrations import startup

    startup.pause()
    from conductor_integrations import cli

    startup.leave(cli.run())


if __name__ == "__main__":
    main()
