"""Regenerate completions/ and man/ from the command tree.

    python scripts/gen_docs.py            # write the files (``make docs``)
    python scripts/gen_docs.py --check    # exit 1 and name the stale files, writing nothing

The completion scripts are what ``integ completion SHELL`` prints; the man pages are
rendered by ``docgen.manpage`` from ``typer.main.get_command(app)``. ``docgen`` (in
scripts/docgen/) is repository tooling: it is not part of the installed package.
Man pages of commands that no longer exist are removed.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def expected(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file (absolute path) with the text it should have."""
    from typer.main import get_command

    from conductor_integrations.cli import app, completion
    from docgen import manpage

    files = {
        root / "completions" / completion.FILENAMES[s]: completion.script(s.value) for s in completion.Shell
    }
    for name, text in manpage.pages(get_command(app)).items():
        files[root / "man" / name] = text
    return files


def stale(root: Path = ROOT) -> tuple[dict[Path, str], list[Path]]:
    """(files to write because they are missing or differ, man pages to remove)."""
    want = expected(root)
    write = {p: t for p, t in want.items() if not p.exists() or p.read_text("utf-8") != t}
    remove = sorted(p for p in (root / "man").glob("*.1") if p not in want)
    return write, remove


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    write, remove = stale()
    if args.check:
        for path in [*write, *remove]:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        if write or remove:
            print("run `make docs` (python scripts/gen_docs.py) and commit the result", file=sys.stderr)
            return 1
        return 0
    for path, text in write.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in remove:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
