"""``python -m conductor_integrations``: the same as the ``integ`` command."""

from conductor_integrations.cli import main

if __name__ == "__main__":
    main()
