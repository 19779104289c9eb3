"""From a document and flags to the request body of ``POST /api/integrations/provider/{name}``.

Pure code: every side effect (environment, files, keyring, prompts) goes through a
``Resolver``, so this module is tested with plain tables.

Sources, later wins:
1. the document (``-f``), whose ``configuration`` mapping is the base;
2. flags (``-t``, ``--category``, ``-d``, ``--enabled/--disabled``), ``-c KEY=VALUE`` merging key
   by key; the NAME argument wins over ``name`` in the document.
Then references are resolved in every string value (``${env:NAME}``, ``${file:PATH}``,
``${keyring}``, ``${keyring:PROVIDER/KEY}``; ``$${`` is a literal ``${``), and a secret key that
is required but has no value is asked of the resolver (keyring, then prompt;
``fill_missing_secrets``). A secret key given as a mask (``redact.is_masked``: ``********``,
``xxxxxxxxxx``) is no value: it means "keep the server's value" and is listed in
``Payload.kept_secrets`` for the caller to resolve against the live provider.

A ``${file:PATH}`` in a document is relative to the document's folder (the current folder
for stdin) and confined to it: the resolver is asked for it ``within`` that folder. Paths
typed on the command line (``-c KEY=@PATH``, ``-c 'KEY=${file:PATH}'``, ``-d``) are not.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from conductor_integrations.client.endpoints import name_problem
from conductor_integrations.documents.reader import Document, KeyPath
from conductor_integrations.errors import InputError, Problem, UsageError, about
from conductor_integrations.secrets.redact import is_masked
from conductor_integrations.types import builtin

#: Top-level fields of a provider document.
DOCUMENT_FIELDS = (
    "name",
    "type",
    "category",
    "description",
    "enabled",
    "configuration",
    "models",
    "tags",
)
#: Fields ``provider get -o json|yaml`` prints that the server sets: ignored in a document,
#: so that ``get`` output is an apply document as it is.
READ_ONLY_FIELDS = ("modelsCount", "createTime", "updateTime", "createdBy", "updatedBy", "ownerApp")
#: Fields of the request body, in the order they are sent.
BODY_FIELDS = ("type", "category", "description", "enabled", "configuration")

_REF = re.compile(r"\$\$\{|\$\{(env|file|keyring)(?::([^}]*))?\}")
#: A placeholder of ``integ types show TYPE --example`` (``<HOST>``, ``<CONNECTION-TYPE>``).
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*>")


class Unresolved(Exception):
    """Raised by a resolver that does not resolve (``OfflineResolver``): the reference is
    well formed and its value is not known here. Not a problem of the document."""


@functools.cache
def _expression() -> re.Pattern[str]:
    """Conductor's own expressions (``${workflow.input.a}``, ``${task.output.x}``): left
    alone. (Compiled when first needed, as ``_ref_start``: only text holding ``${`` is.)"""
    return re.compile(r"\$\{[A-Za-z_][\w-]*(?:\.[^{}\s]+)+\}")


@functools.cache
def _ref_start() -> re.Pattern[str]:
    """The start of what was meant as a reference: ``${WORD`` and a ``:`` after it, if any."""
    return re.compile(r"\$\{([A-Za-z_]*)(:?)")


_REF_KINDS = {"env": "${env:NAME}", "file": "${file:PATH}", "keyring": "${keyring}"}


class Resolver(Protocol):
    """Where references get their values. Each method may raise ``InputError``."""

    def env(self, name: str) -> str | None: ...

    def read_file(self, path: Path, within: Path | None = None) -> str:
        """The text of the file at ``path``; with ``within`` (references in a document),
        only a file inside that folder may be read."""
        ...

    def keyring(self, provider: str, key: str) -> str | None: ...

    def missing_secret(self, provider: str, key: str) -> str | None:
        """Called for a required secret with no value: keyring, then prompt; None if neither."""
        ...


class ConfigFlag(NamedTuple):
    """One ``-c KEY=VALUE`` (or ``-c KEY=@PATH``) from the command line."""

    key: str
    value: str
    from_file: bool = False

    @classmethod
    def parse(cls, text: str) -> ConfigFlag:
        key, sep, value = text.partition("=")
        key = key.strip()
        # What was given may be a secret (the key or the = forgotten): never repeat it.
        if not sep:
            raise UsageError(
                "-c: expected KEY=VALUE or KEY=@PATH, the value given has no =",
                hints=["for example: -c endpoint=https://api.openai.com/v1 -c api_key=@key.txt"],
            )
        if not key:
            raise UsageError(
                "-c =VALUE: the key before = is empty",
                hints=["for example: -c endpoint=https://api.openai.com/v1 -c api_key=@key.txt"],
            )
        if value.startswith("@") and len(value) > 1:
            return cls(key, value[1:], from_file=True)
        return cls(key, value)


class Flags:
    """What the command line says about one provider (None: not given)."""

    __slots__ = ("category", "config", "description", "enabled", "type", "unset")

    def __init__(
        self,
        type: str | None = None,
        category: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        config: list[ConfigFlag] | None = None,
        unset: list[str] | None = None,
    ) -> None:
        self.type = type
        self.category = category
        self.description = description
        self.enabled = enabled
        self.config: list[ConfigFlag] = [] if config is None else config
        #: ``--unset KEY``: configuration keys to remove from the live provider
        self.unset: list[str] = [] if unset is None else unset


class Payload:
    """A resolved provider: the body to send and what to mask in it."""

    __slots__ = (
        "body",
        "document",
        "kept_secrets",
        "literal_cli_secrets",
        "models",
        "name",
        "plain_secrets",
        "problems",
        "secret_keys",
        "secret_values",
        "tags",
        "unresolved",
        "warnings",
    )

    def __init__(
        self,
        name: str,
        body: dict[str, Any],
        secret_keys: set[str] | None = None,
        problems: list[Problem] | None = None,
        document: Document | None = None,
    ) -> None:
        self.name = name
        self.body = body
        #: configuration keys whose values are secrets (masked on every output path)
        self.secret_keys: set[str] = set() if secret_keys is None else secret_keys
        #: secret values met while resolving (registered with the redactor)
        self.secret_values: set[str] = set()
        self.problems: list[Problem] = [] if problems is None else problems
        #: ``models:`` and ``tags:`` of the document, handed on unchanged
        self.models: Any = None
        self.tags: Any = None
        self.document = document
        #: configuration keys given literally on the command line
        self.literal_cli_secrets: list[str] = []
        #: secret keys given as a mask (``********``, ``xxxxxxxxxx``): keep the server's value
        self.kept_secrets: set[str] = set()
        #: configuration keys whose value is not known: a reference that failed (already a
        #: problem), one left unresolved offline, or a placeholder; not "missing" again
        self.unresolved: set[str] = set()
        #: lines to print as warnings that are not problems of the document (``--strict``
        #: leaves them alone): secrets given literally with -c
        self.warnings: list[str] = []
        #: secret keys the document gives in plain text (``pipeline`` warns once a document)
        self.plain_secrets: list[str] = []

    def __repr__(self) -> str:
        return f"Payload({self.name!r}, type={self.type!r})"  # not the body: it holds secrets

    @property
    def type(self) -> str | None:
        value = self.body.get("type")
        return value if isinstance(value, str) else None

    @property
    def configuration(self) -> dict[str, Any]:
        config = self.body.get("configuration")
        return config if isinstance(config, dict) else {}

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def scalar_text(value: Any, raw: str | None = None) -> str | None:
    """A configuration value as the text that is sent: booleans ``true``/``false``, numbers
    and dates as written in the YAML file. None stays None (no value)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if raw is not None:
        return raw
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


class _Builder:
    def __init__(self, name: str, doc: Document | None):
        self.name = name
        self.doc = doc
        self.problems: list[Problem] = []
        #: key paths whose text holds a ``${`` that is not a reference (nothing is sent)
        self.not_references: set[str] = set()

    def problem(self, path: KeyPath, message: str, hint: str = "", severity: str = "error") -> None:
        source = self.doc.label if self.doc else ""
        line = self.doc.line_of(path) if self.doc else None
        dotted = ".".join(str(p) for p in path)
        self.problems.append(Problem(dotted, message, hint, severity, source, line))


def _flag_problem(path: str, message: str, hint: str = "") -> Problem:
    return Problem(path, message, hint, "error", "command line")


def build(
    name: str | None,
    doc: Document | None,
    flags: Flags | None,
    resolver: Resolver,
    *,
    resolve_missing_secrets: bool = True,
) -> Payload:
    """Merge document and flags, resolve references, and return the payload with every
    problem found on the way (shape errors, bad references, missing secrets)."""
    flags = flags or Flags()
    data: dict[str, Any] = {}
    b = _Builder(name or "", doc)
    if doc is not None:
        if isinstance(doc.data, dict):
            data = doc.data
        else:
            b.problem((), "a provider document must be a mapping of fields")
    for key in data:
        if key not in DOCUMENT_FIELDS and key not in READ_ONLY_FIELDS and key != "kind":
            hint = builtin.closest_key(key, DOCUMENT_FIELDS)
            b.problem(
                (key,),
                f"unknown field {key!r}",
                f"did you mean {hint!r}?" if hint else "fields: " + ", ".join(DOCUMENT_FIELDS),
                "warning",
            )
    doc_name = data.get("name")
    final_name = name or (str(doc_name) if doc_name not in (None, "") else "")
    b.name = final_name
    if not final_name:
        b.problem(("name",), "the provider has no name", "give NAME or a `name:` field")
    elif name_problem(final_name):
        b.problem(("name",), f"{name_problem(final_name)}", "give the provider its real name")

    body: dict[str, Any] = {}
    for key in ("type", "category", "description"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, (dict, list)):
            b.problem((key,), f"{key} must be a single value")
            continue
        body[key] = scalar_text(value, doc.raw_text((key,)) if doc else None)
        _placeholder(b, (key,), body[key])
    if "enabled" in data and data["enabled"] is not None:
        if isinstance(data["enabled"], bool):
            body["enabled"] = data["enabled"]
        else:
            b.problem(("enabled",), "enabled must be true or false")
    for key in ("type", "category", "description"):
        value = getattr(flags, key)
        if value is not None:
            body[key] = value
    if flags.enabled is not None:
        body["enabled"] = flags.enabled

    config: dict[str, str | None] = {}
    origin: dict[str, tuple[str, Path]] = {}  # key -> ("file"|"flag"|"literal", base dir)
    base_dir = doc.base_dir if doc else Path.cwd()
    placeholders: set[str] = set()
    plain: list[str] = []  # secret keys the document gives in plain text
    raw_config = data.get("configuration")
    if raw_config is not None and not isinstance(raw_config, dict):
        b.problem(("configuration",), "configuration must be a mapping of KEY: value")
    elif raw_config:
        for key, value in raw_config.items():
            path = ("configuration", key)
            if isinstance(value, (dict, list)):
                b.problem(
                    path,
                    "a configuration value must be a single value",
                    "put structured content (JSON) in a file and use ${file:PATH}",
                )
                continue
            config[key] = scalar_text(value, doc.raw_text(path) if doc else None)
            origin[key] = ("file", base_dir)
            if _placeholder(b, path, config[key]):
                placeholders.add(str(key))
            elif _plain_secret(key, config[key]):
                plain.append(key)
    literal: list[str] = []
    for cf in flags.config:
        if cf.from_file:
            try:
                text = resolver.read_file(Path(cf.value))
            except InputError as exc:
                b.problems.append(_flag_problem(f"-c {cf.key}", exc.message))
                continue
            config[cf.key] = text[:-1] if text.endswith("\n") else text
            origin[cf.key] = ("literal", Path.cwd())
        else:
            config[cf.key] = cf.value
            origin[cf.key] = ("flag", Path.cwd())
            if _plain_secret(cf.key, cf.value):
                literal.append(cf.key)

    payload = Payload(final_name, body, problems=b.problems, document=doc)
    payload.literal_cli_secrets = literal
    payload.warnings = [_cli_secret_warning(key) for key in literal]
    payload.plain_secrets = plain
    payload.unresolved.update(placeholders)
    payload.models = data.get("models")
    payload.tags = data.get("tags")

    # References in top-level strings and in configuration values.
    for key in ("type", "category", "description"):
        if isinstance(body.get(key), str):
            typed = getattr(flags, key) is not None
            body[key] = _resolve(
                body[key], (key,), b, resolver, base_dir, payload, secret=False, confined=not typed
            )
    resolved: dict[str, str] = {}
    for key, value in config.items():
        secret = builtin.is_secret_key(key)
        if value is None:
            continue
        kind, key_base = origin[key]
        if kind == "literal":  # -c KEY=@PATH: the file's text is taken as it is
            resolved[key] = value
        else:
            resolved[key] = _resolve(
                value,
                ("configuration", key),
                b,
                resolver,
                key_base,
                payload,
                secret=secret,
                confined=kind == "file",
            )
        if secret:
            payload.secret_keys.add(key)
            if is_masked(resolved[key]):
                payload.kept_secrets.add(key)
            elif resolved[key] and f"configuration.{key}" not in b.not_references:
                # a mistyped reference is shown in its problem, not redacted out of it
                payload.secret_values.add(resolved[key])

    if resolved or raw_config is not None or flags.config:
        body["configuration"] = resolved
    if resolve_missing_secrets:
        fill_missing_secrets(payload, resolver)
    # Keys present with no value (``api_key:``) are known to be secret for masking too.
    payload.secret_keys.update(k for k in config if builtin.is_secret_key(k))
    payload.problems[:] = about(payload.problems, final_name)
    return payload


def secret_hint(key: str, name: str) -> str:
    """The ways to give the secret ``key`` of provider ``name``."""
    who = name or "NAME"
    return (
        f"reference an environment variable with `{key}: ${{env:VAR}}` (or -c '{key}=${{env:VAR}}'), "
        f"store it with `integ secret set {who} {key}` (read as ${{keyring}}), or read it from a "
        f"file with -c {key}=@file"
    )


def _plain_secret(key: str, value: str | None) -> bool:
    """True when ``value`` of a secret key is the secret itself: not a reference (or a
    mistyped one, a problem of its own), not a mask."""
    return bool(builtin.is_secret_key(key) and value and "${" not in value and not is_masked(value))


def _cli_secret_warning(key: str) -> str:
    return (
        f"-c {key}: a secret given on the command line is kept in shell history and seen in "
        f"the process list; prefer -c {key}=@FILE, '{key}=${{env:VAR}}' or `integ secret set`"
    )


def fill_missing_secrets(payload: Payload, resolver: Resolver, *, ask: bool = True) -> None:
    """Ask ``resolver`` (keyring, then prompt) for each secret the type requires that the
    body has no value for; one that cannot be had is a problem of the payload. A mask, such
    as the live provider's ``xxxxxxxxxx``, counts as a value (the server holds the secret).
    ``ask`` False (offline): nothing is asked, and such a secret's value counts as unknown."""
    if not payload.name:
        return
    given = payload.body.get("configuration")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    present = {k: v for k, v in config.items() if isinstance(v, str)}
    doc = payload.document
    for key in missing_required_secrets(payload.body.get("type"), present):
        if key in payload.unresolved:
            continue  # its reference failed and was reported, or is not resolved offline
        if not ask:
            payload.unresolved.add(key)
            continue
        try:
            value = resolver.missing_secret(payload.name, key)
        except Unresolved:
            payload.unresolved.add(key)
            continue
        except InputError as exc:  # the keyring cannot be used: said here, not again as missing
            payload.unresolved.add(key)
            path = ("configuration", key)
            payload.problems.append(
                Problem(
                    ".".join(path),
                    f"{payload.type} requires {key!r}; {exc.message}",
                    "; ".join(exc.hints),
                    "error",
                    doc.label if doc else "",
                    doc.line_of(path) if doc else None,
                )
            )
            continue
        if value:
            config[key] = value
            payload.body["configuration"] = config
            payload.secret_keys.add(key)
            payload.secret_values.add(value)


def missing_required_secrets(type_name: Any, config: dict[str, str]) -> list[str]:
    """Secret keys the type requires (conditional rules included) that have no value."""
    ptype = builtin.table().get(type_name) if isinstance(type_name, str) else None
    if ptype is None:
        return []
    needed = list(ptype.effective_required)
    for key, choices in ptype.conditional.items():
        needed.extend(choices.get(config.get(key, ""), ()))
    return [k for k in needed if builtin.is_secret_key(k) and not config.get(k)]


def _resolve(
    text: str,
    path: KeyPath,
    b: _Builder,
    resolver: Resolver,
    base_dir: Path,
    payload: Payload,
    *,
    secret: bool,
    confined: bool = True,
) -> str:
    """Expand the references in one string value; problems are recorded, not raised.
    ``confined``: the value comes from a document, so files must be under ``base_dir``."""
    out: list[str] = []
    pos = 0
    for m in _REF.finditer(text):
        out.append(text[pos : m.start()])
        _check_literal(text[pos : m.start()], path, b, secret)
        pos = m.end()
        if m.group(0) == "$${":
            out.append("${")
            continue
        kind, arg = m.group(1), m.group(2)
        try:
            value = _lookup(kind, arg, resolver, base_dir if confined else None, base_dir, b.name, path)
        except Unresolved:  # well formed, not resolved here (offline): its value is unknown
            out.append(m.group(0))
            _unknown(payload, path)
            continue
        except InputError as exc:
            b.problem(path, exc.message, "; ".join(exc.hints))
            _unknown(payload, path)
            continue
        if kind == "keyring" or secret:
            payload.secret_values.add(value)
        out.append(value)
    out.append(text[pos:])
    _check_literal(text[pos:], path, b, secret)
    return "".join(out)


def _unknown(payload: Payload, path: KeyPath) -> None:
    if len(path) == 2 and path[0] == "configuration":
        payload.unresolved.add(str(path[1]))


def _placeholder(b: _Builder, path: KeyPath, value: str | None) -> bool:
    """Report a ``--example`` placeholder still in a document value; True if one is."""
    found = PLACEHOLDER.search(value) if isinstance(value, str) else None
    if found is None:
        return False
    key = str(path[-1])
    b.problem(
        path,
        f"{key} still holds the placeholder {found.group(0)}: fill it in",
        "`integ types show TYPE` describes each key",
    )
    return True


def _check_literal(text: str, path: KeyPath, b: _Builder, secret: bool) -> None:
    """A ``${`` left in text that is not a reference (``${keyrng}``, ``${ENV:X}``, an
    unclosed ``${env:HOME``) is a problem, not a value: it would be sent as written. A
    Conductor expression (``${workflow.input.a}``) is left alone. In a secret key the text
    is shown only as far as the word that names the reference."""
    start = text.find("${")
    while start != -1:
        expression = _expression().match(text, start)
        if not expression:
            break
        start = text.find("${", expression.end())
    if start == -1:
        return
    m = _ref_start().match(text, start)
    word, colon = (m.group(1), m.group(2)) if m else ("", "")
    rest = text[start + 2 :]
    closed = "}" in rest
    lowered = word.lower()
    near = (
        lowered
        if lowered in _REF_KINDS
        else next(iter(difflib.get_close_matches(lowered, list(_REF_KINDS), 1, 0.6)), "")
    )
    if not secret:
        end = text.find("}", start)
        shown = text[start : end + 1] if end != -1 else text[start:]
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
    elif near or not word:
        after = start + 2 + len(word) + len(colon)
        shown = text[start:after] + ("…" if colon else "}" if text[after : after + 1] == "}" else "")
    else:
        shown = "${"
    hints: list[str] = []
    if near and word != near:
        meant = "${keyring:PROVIDER/KEY}" if near == "keyring" and colon else _REF_KINDS[near]
        hints.append(f"did you mean {meant}?")
    if not closed:
        hints.append("close it with }")
    hints.append("write $${ for a literal ${")
    what = "an unclosed reference" if not closed else "not a reference integ knows"
    b.not_references.add(".".join(str(p) for p in path))
    b.problem(
        path,
        f"{shown} is {what}: references are ${{env:NAME}}, ${{file:PATH}}, ${{keyring}}, "
        "${keyring:PROVIDER/KEY}",
        "; ".join(hints),
    )


def _lookup(
    kind: str,
    arg: str | None,
    resolver: Resolver,
    within: Path | None,
    base_dir: Path,
    provider: str,
    path: KeyPath,
) -> str:
    if kind == "env":
        if not arg:
            raise InputError("${env:NAME} needs a variable name")
        value = resolver.env(arg)
        if value is None:
            key = str(path[-1]) if len(path) == 2 and path[0] == "configuration" else ""
            hint = f"export {arg}"
            if builtin.is_secret_key(key):
                who = provider or "NAME"
                hint += (
                    f", or give {key} as `{key}: ${{keyring}}` after `integ secret set {who} {key}`, "
                    f"or with -c {key}=@file"
                )
            raise InputError(
                f"environment variable {arg} is not set (referenced as ${{env:{arg}}})", hints=[hint]
            )
        return value
    if kind == "file":
        if not arg:
            raise InputError("${file:PATH} needs a path")
        target = Path(arg).expanduser()
        if not target.is_absolute():
            target = base_dir / target
        try:
            text = resolver.read_file(target, within=within)
        except InputError as exc:
            raise InputError(f"${{file:{arg}}}: {exc.message}", hints=exc.hints) from None
        return text[:-1] if text.endswith("\n") else text
    # keyring
    if arg is None:
        key = str(path[-1]) if path and path[0] == "configuration" else ""
        if not provider or not key:
            raise InputError(
                "${keyring} stands for this provider's secret and works only as a configuration value"
            )
        owner = provider
    else:
        owner, sep, key = arg.rpartition("/")
        if not sep or not owner or not key:
            raise InputError(f"${{keyring:{arg}}}: expected ${{keyring:PROVIDER/KEY}}")
    value = resolver.keyring(owner, key)
    if value is None:
        raise InputError(
            f"no secret stored for {owner}/{key}",
            hints=[f"store it with `integ secret set {owner} {key}`"],
        )
    return value


def references(text: str) -> list[tuple[str, str | None]]:
    """The references in ``text`` as ``(kind, argument)`` pairs (for tests and export)."""
    return [(m.group(1), m.group(2)) for m in _REF.finditer(text) if m.group(0) != "$${"]


def fill_category(body: dict[str, Any]) -> None:
    """Fill ``category`` from the type table when it was not given."""
    if "category" in body:
        return
    ptype = builtin.table().get(body["type"]) if isinstance(body.get("type"), str) else None
    if ptype is not None:
        body["category"] = ptype.category


def order_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its fields in the order of the reference page's examples."""
    return {k: body[k] for k in BODY_FIELDS if k in body}


def parse_config_flags(values: Sequence[str] | None) -> list[ConfigFlag]:
    return [ConfigFlag.parse(v) for v in values or ()]


def secret_config_keys(config: Iterable[str]) -> set[str]:
    return {k for k in config if builtin.is_secret_key(k)}
