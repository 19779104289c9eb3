"""Man pages for ``integ``, generated from the command tree.

``pages(root)`` walks ``typer.main.get_command(app)`` (by duck typing: ``.commands``,
``.get_params``, ``.get_help_record``, ``.help``; Typer vendors its own click) and returns
``{"integ.1": text, "integ-provider.1": text, "integ-provider-put.1": text, ...}``: one page
for ``integ``, one per group and one per command, each with NAME, SYNOPSIS, DESCRIPTION,
OPTIONS, ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES and SEE ALSO. The output depends only
on the tree and the version (no dates), so ``scripts/gen_docs.py`` can check it in and a
test can tell when the checked-in pages are stale.

The prose that is not in the tree (examples, environment, files, exit status) lives in
``man_text``.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from conductor_integrations import __version__
from docgen import man_text

PROG = "integ"
MANUAL = "integ manual"


@dataclass
class Node:
    """One command of the tree with its context (built without parsing anything)."""

    path: tuple[str, ...]  # ("integ", "provider", "put")
    command: Any
    ctx: Any
    children: list["Node"] = field(default_factory=list)
    parent: Optional["Node"] = None

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def page(self) -> str:
        return "-".join(self.path)

    @property
    def key(self) -> str:
        """The command path without the program name (``provider put``), "" for the root."""
        return " ".join(self.path[1:])


def walk(root: Any) -> list[Node]:
    """Every visible command of the tree, depth first, in the order ``--help`` lists them."""
    settings = dict(getattr(root, "context_settings", None) or {})
    top = Node((PROG,), root, root.context_class(root, info_name=PROG, **settings))
    nodes: list[Node] = []

    def visit(node: Node) -> None:
        nodes.append(node)
        commands = getattr(node.command, "commands", None)
        if not commands:
            return
        lister = getattr(node.command, "list_commands", None)
        names = lister(node.ctx) if lister else list(commands)
        for name in names:
            sub = commands.get(name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            ctx = sub.context_class(sub, info_name=name, parent=node.ctx)
            child = Node((*node.path, name), sub, ctx, parent=node)
            node.children.append(child)
            visit(child)

    visit(top)
    return nodes


def pages(root: Any, version: str = __version__) -> dict[str, str]:
    """``{filename: roff text}`` for every page of the tree."""
    nodes = walk(root)
    known = {n.page for n in nodes}
    return {f"{n.page}.1": render(n, known, version) for n in nodes}


# -- roff ----------------------------------------------------------------------------

_CODE = re.compile(r"`([^`\n]+)`")


def esc(text: str) -> str:
    """Text for roff: backslashes, minus signs and quotes escaped, `code` in bold, and no
    line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq")
    text = _CODE.sub(lambda m: f"\\fB{m.group(1)}\\fR", text).replace("`", "\\(ga")
    return "\n".join(f"\\&{line}" if line.startswith(".") else line for line in text.split("\n"))


def _paragraphs(text: str) -> list[str]:
    """Help text as roff paragraphs: indented or ``\\b`` blocks stay as typed."""
    text = text.split("\f", 1)[0]
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        if lines[0].strip() == "\b":
            out.append(_literal([line for line in lines[1:]]))
        elif all(line.startswith("  ") for line in lines):
            out.append(_literal(lines))
        else:
            out.append(".PP\n" + esc(" ".join(line.strip() for line in lines)))
    return out


def _literal(lines: list[str]) -> str:
    width = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    body = "\n".join(esc(x[width:].rstrip()) for x in lines)
    return f".PP\n.RS 4\n.nf\n{body}\n.fi\n.RE"


def _short_help(node: Node) -> str:
    """The one-line summary: ``man_text.SUMMARY``, else the command's short help, else the
    first sentence of its help."""
    if node.key in man_text.SUMMARY:
        return man_text.SUMMARY[node.key]
    command = node.command
    text = str(getattr(command, "short_help", None) or getattr(command, "help", None) or "")
    first = " ".join(text.split("\f", 1)[0].strip().split("\n\n", 1)[0].split())
    return re.split(r"(?<=[a-z)])\. ", first, maxsplit=1)[0].rstrip(".")


def wrap_command(line: str, width: int = 68) -> list[str]:
    """A long shell command as lines continued with a backslash, broken between words
    (never inside quotes), an option kept with its value."""
    if len(line) <= width:
        return [line]
    words: list[str] = []
    word, quote = "", ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == " ":
            words.append(word)
            word = ""
            continue
        word += ch
    words.append(word)
    groups: list[str] = []
    for w in words:
        if groups and groups[-1].startswith("-") and " " not in groups[-1] and not w.startswith("-"):
            groups[-1] += f" {w}"
        else:
            groups.append(w)
    lines, current = [], groups[0]
    for group in groups[1:]:
        if len(current) + 1 + len(group) > width - 2:
            lines.append(f"{current} \\")
            current = f"    {group}"
        else:
            current += f" {group}"
    return [*lines, current]


# -- sections -------------------------------------------------------------------------


def _synopsis(node: Node) -> str:
    parts = [f"\\fB{esc(node.name)}\\fR", "[\\fIOPTIONS\\fR]"]
    if getattr(node.command, "commands", None):
        parts.append("\\fICOMMAND\\fR [\\fIARGS\\fR]...")
    for param in _params(node, "argument"):
        meta = _argument_name(param)
        parts.append(f"\\fI{esc(meta)}\\fR" if param.required else f"[\\fI{esc(meta)}\\fR]")
    return ".SH SYNOPSIS\n" + " ".join(parts)


def _params(node: Node, kind: str) -> list[Any]:
    params = node.command.get_params(node.ctx)
    return [p for p in params if p.param_type_name == kind and not getattr(p, "hidden", False)]


def _argument_name(param: Any) -> str:
    name = str(param.metavar or param.name.upper()).removesuffix("...")
    return f"{name}..." if param.nargs != 1 else name


_BARE_TYPE = re.compile(r"^<[a-z]+>$")


def _metavar(param: Any, shown: str) -> str:
    """The value name shown after an option's flags: its metavar, the choices, or the
    option's name for Typer's bare type names (``<str>``)."""
    if _BARE_TYPE.match(shown):
        return str(param.name).upper()
    if shown.startswith("<") and shown.endswith(">") and "|" in shown:
        return "{" + shown[1:-1] + "}"
    return shown


def _option_tag(param: Any, decl: str) -> str:
    """``-o, --output FORMAT`` as ``\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIFORMAT\\fR``."""
    rendered = []
    for alternative in decl.split(" / "):
        flags, _, shown = alternative.partition(" ")
        while shown.startswith("-") and " " in shown:  # more flags after ", "
            more, _, shown = shown.partition(" ")
            flags = f"{flags} {more}"
        if shown.startswith("-"):
            flags, shown = f"{flags} {shown}", ""
        names = [f"\\fB{esc(f.strip())}\\fR" for f in flags.split(",") if f.strip()]
        text = ", ".join(names)
        if shown:
            text += f" \\fI{esc(_metavar(param, shown))}\\fR"
        rendered.append(text)
    return " / ".join(rendered)


def _arguments(node: Node) -> str:
    items = []
    for param in _params(node, "argument"):
        record = param.get_help_record(node.ctx)
        help_text = record[1] if record else ""
        shown = record[0].partition(" ")[2] if record else ""
        choices = _metavar(param, shown) if "|" in shown else ""
        tag = f"\\fI{esc(_argument_name(param))}\\fR" + (f" {esc(choices)}" if choices else "")
        items.append(f".TP\n{tag}\n{esc(help_text) or 'See above.'}")
    return ".SH ARGUMENTS\n" + "\n".join(items) if items else ""


def _options(node: Node) -> str:
    panels: dict[str, list[str]] = {}
    for param in _params(node, "option"):
        record = param.get_help_record(node.ctx)
        if not record:
            continue
        panel = getattr(param, "rich_help_panel", None) or ""
        help_text = esc(record[1]) or "(no description)"
        panels.setdefault(panel, []).append(f".TP\n{_option_tag(param, record[0])}\n{help_text}")
    out = [".SH OPTIONS"]
    titled = len(panels) > 1
    for panel in sorted(panels, key=lambda p: p != ""):
        if titled:
            out.append(f".SS {esc(panel or 'Command options')}")
        out.extend(panels[panel])
    return "\n".join(out)


def _commands(node: Node) -> str:
    leaves = list(_descendants(node))
    if not leaves:
        return ""
    items = [
        f".TP\n\\fB{esc(n.name)}\\fR\n{esc(_short_help(n))}. See \\fB{esc(n.page)}\\fR(1)." for n in leaves
    ]
    return ".SH COMMANDS\n" + "\n".join(items)


def _descendants(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.children:
            yield from _descendants(child)
        else:
            yield child


def _definitions(title: str, rows: tuple[tuple[str, str], ...], bold: bool = True) -> str:
    font = "B" if bold else "I"
    items = [f".TP\n\\f{font}{esc(term)}\\fR\n{esc(text)}" for term, text in rows]
    return f".SH {title}\n" + "\n".join(items)


def _examples(node: Node) -> str:
    examples = man_text.EXAMPLES.get(node.key, ())
    if not examples:
        return ""
    items = []
    for text, commands in examples:
        lines = [part for command in commands.split("\n") for part in wrap_command(command)]
        items.append(f".PP\n{esc(text)}\n.PP\n.RS 4\n.nf\n{esc(chr(10).join(lines))}\n.fi\n.RE")
    return ".SH EXAMPLES\n" + "\n".join(items)


def _see_also(node: Node, known: set[str]) -> str:
    related: list[str] = []
    if node.parent is not None:
        related.append(node.parent.page)
        if node.parent.parent is not None:
            related.insert(0, node.parent.parent.page)
        related.extend(s.page for s in node.parent.children if s is not node)
    related.extend(c.page for c in node.children)
    related.extend(man_text.RELATED.get(node.key, ()))
    seen = [p for p in dict.fromkeys(related) if p in known and p != node.page]
    refs = [f"\\fB{esc(p)}\\fR(1)" for p in seen]
    return ".SH SEE ALSO\n" + ",\n".join(refs) if refs else ""


def render(node: Node, known: set[str], version: str = __version__) -> str:
    """The roff text of ``node``'s page."""
    title = node.page.upper()
    help_text = str(getattr(node.command, "help", "") or _short_help(node))
    description = "\n".join(_paragraphs(help_text)) if help_text.strip() else ".PP\n" + esc(node.name)
    sections = [
        f'.TH "{esc(title)}" "1" "" "{PROG} {esc(version)}" "{MANUAL}"',
        ".nh\n.ad l",
        ".SH NAME",
        f"{esc(node.page)} \\- {esc(_short_help(node).replace('`', '') or node.name)}",
        _synopsis(node),
        ".SH DESCRIPTION\n" + description,
        _commands(node),
        _arguments(node),
        _options(node),
        _definitions("ENVIRONMENT", man_text.ENVIRONMENT),
        ".SH FILES\n" + "\n".join(f".TP\n\\fI{esc(p)}\\fR\n{esc(t)}" for p, t in man_text.FILES),
        _definitions("EXIT STATUS", tuple((str(int(code)), text) for code, text in man_text.EXIT_STATUS)),
        _examples(node),
        _see_also(node, known),
    ]
    return "\n".join(s for s in sections if s) + "\n"
