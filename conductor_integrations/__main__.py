"""``python -m conductor_integrations`` and the ``integ`` console script.

``integ --version`` is answered here, before the command tree (and Typer) is imported:
scripts ask it often, and it needs nothing else.
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
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(0)
    from conductor_integrations import cli

    cli.main()


if __name__ == "__main__":
    main()
