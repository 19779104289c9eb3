"""What the installed package holds: the man page generator is repository tooling
(scripts/docgen), not a module of conductor_integrations."""

import importlib.util
from pathlib import Path

import conductor_integrations

PACKAGE = Path(conductor_integrations.__file__).resolve().parent


def test_the_package_has_no_man_page_generator() -> None:
    names = {path.stem for path in PACKAGE.rglob("*.py")}
    assert not names & {"manpage", "man_text"}, sorted(names & {"manpage", "man_text"})
    assert importlib.util.find_spec("conductor_integrations.cli.manpage") is None
    assert importlib.util.find_spec("conductor_integrations.cli.man_text") is None


def test_the_generator_is_importable_as_tooling() -> None:
    from docgen import man_text, manpage

    assert Path(manpage.__file__).resolve().parent.parent.name == "scripts"
    assert man_text.EXIT_STATUS
