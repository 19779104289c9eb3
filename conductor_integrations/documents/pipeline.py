"""From documents and flags to checked payloads: the one way ``provider put``, ``provider
apply``, ``provider diff`` and ``validate`` turn what they are given into request bodies.

Each payload goes through the same steps:

1. ``build``: document and flags merged, references resolved (``payload.build``);
2. ``rebase`` (``put`` only): the body merged onto the live provider;
3. the secrets the type requires and the body lacks asked of the resolver (keyring, then
   prompt; not offline);
4. with the server's definitions (``--server-types``), what they say is secret;
5. checked against the type table (not with ``--no-validate``), and the document's
   ``models:`` and ``tags:`` checked (not for ``put``, which does not send them);
6. ``--strict``: every warning becomes an error (here, and nowhere else).

Nothing is printed: the result carries the payloads, every problem (file, line, provider,
key path) and the warnings that are not problems of one spot (a secret in plain text, a
keyring that could not be used); the command prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from conductor_integrations.documents import model_docs, validate
from conductor_integrations.documents.payload import (
    Flags,
    Payload,
    Resolver,
    build,
    fill_category,
    fill_missing_secrets,
)
from conductor_integrations.documents.reader import Document
from conductor_integrations.documents.validate import TypeSource
from conductor_integrations.errors import Problem, about, shown_name


class Options(NamedTuple):
    """How payloads are checked."""

    #: the server's definitions (``--server-types``); None: the table built into integ
    types: TypeSource | None = None
    #: ``--strict``: warnings become errors
    strict: bool = False
    #: False for ``--no-validate``: only what building found is reported
    check_table: bool = True
    #: ``validate --offline``: no missing secret is asked for (nor required: the keyring may
    #: hold it); the resolver is then one that resolves nothing
    offline: bool = False
    #: False for ``put``, which does not send them: the document's ``models:`` and ``tags:``
    #: are not checked
    models: bool = True


class Prepared:
    """What the pipeline made of its input."""

    __slots__ = ("notes", "payloads", "problems", "warnings")

    def __init__(
        self,
        payloads: list[Payload] | None = None,
        problems: list[Problem] | None = None,
        warnings: list[str] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.payloads: list[Payload] = [] if payloads is None else payloads
        #: every problem of every payload, in document order
        self.problems: list[Problem] = [] if problems is None else problems
        #: lines to print as warnings that are not problems (``--strict`` leaves them alone)
        self.warnings: list[str] = [] if warnings is None else warnings
        #: lines to print as information (a secret stored in the keyring after the prompt)
        self.notes: list[str] = [] if notes is None else notes

    def without_problems(self) -> Prepared:
        """The same payloads, warnings and notes, with no problems (reported elsewhere)."""
        return Prepared(self.payloads, [], self.warnings, self.notes)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def strictly(problems: Sequence[Problem], strict: bool) -> list[Problem]:
    """``problems``, every warning an error under ``--strict``."""
    return [p.as_error() for p in problems] if strict else list(problems)


def build_one(
    name: str | None, doc: Document | None, flags: Flags | None, resolver: Resolver, strict: bool = False
) -> Prepared:
    """Step 1 alone, for ``put``: what building found needs no server, so it is reported
    before one is asked. ``complete`` does the rest."""
    built = build(name, doc, flags, resolver, resolve_missing_secrets=False)
    built.problems = strictly(built.problems, strict)
    warnings = plain_text_warnings([built]) + built.warnings
    return _with_notices(Prepared([built], list(built.problems), warnings), resolver)


def complete(
    built: Payload,
    resolver: Resolver,
    options: Options,
    rebase: Callable[[Payload], None] | None = None,
) -> Prepared:
    """Steps 2 to 6 on a built payload (changed in place): ``rebase`` changes its body
    first (``put``'s merge onto the live provider)."""
    if rebase is not None:
        rebase(built)
    fill_missing_secrets(built, resolver, ask=not options.offline)
    if options.types is not None:
        validate.use_server_type(built, options.types)
    found = validate.check(built, types=options.types) if options.check_table else list(built.problems)
    if options.models:
        found += model_docs.check(built, resolver)
    built.problems = about(strictly(found, options.strict), built.name)
    fill_category(built.body)
    return _with_notices(Prepared([built], list(built.problems)), resolver)


def from_documents(docs: Sequence[Document], resolver: Resolver, options: Options) -> Prepared:
    """Every provider document built and checked, as ``validate``, ``apply`` and ``diff``
    do; a provider defined twice is an error of its second document."""
    out = Prepared()
    seen: dict[str, str] = {}
    for doc in docs:
        built = _with_notices(
            Prepared([build(None, doc, None, resolver, resolve_missing_secrets=False)]), resolver
        )
        one = complete(built.payloads[0], resolver, options)
        payload = one.payloads[0]
        if payload.name in seen:
            payload.problems.append(
                Problem(
                    "name",
                    f"provider {payload.name!r} is defined twice",
                    f"first at {seen[payload.name]}",
                    "error",
                    doc.label,
                    doc.line_of(("name",)),
                    payload.name,
                )
            )
        elif payload.name:
            seen[payload.name] = doc.where(("name",))
        out.payloads.append(payload)
        out.problems.extend(payload.problems)
        out.warnings.extend(built.warnings + one.warnings)
        out.notes.extend(built.notes + one.notes)
    out.warnings[:0] = plain_text_warnings(out.payloads)
    return out


def plain_text_warnings(payloads: Sequence[Payload]) -> list[str]:
    """One warning for each document that writes secrets in plain text (a document that is
    a list of providers is one document), naming the keys, never the values."""
    by_document: dict[str, list[Payload]] = {}
    for p in payloads:
        if p.plain_secrets and p.document is not None:
            by_document.setdefault(p.document.label, []).append(p)
    out = []
    for found in by_document.values():
        first, keys = found[0], found[0].plain_secrets
        assert first.document is not None
        what = f"the secret {keys[0]} is" if len(keys) == 1 else f"the secrets {', '.join(keys)} are"
        others = f" (and in {len(found) - 1} more of its providers)" if len(found) > 1 else ""
        who = shown_name(first.name) or "NAME"
        out.append(
            f"{first.document.where(('configuration', keys[0]))} {who}: {what} written in plain "
            f"text in the document{others}; write `{keys[0]}: ${{env:VAR}}` (VAR set in the "
            f"environment) or `{keys[0]}: ${{keyring}}` (after `integ secret set {who} {keys[0]}`) "
            "instead"
        )
    return out


def _with_notices(prepared: Prepared, resolver: Any) -> Prepared:
    """``prepared`` with what the resolver has to say (``LocalResolver.notices`` and
    ``notes``), taken from it so that each is said once."""
    for attr, into in (("notices", prepared.warnings), ("notes", prepared.notes)):
        said = getattr(resolver, attr, None)
        if isinstance(said, list):
            into.extend(str(line) for line in said)
            said.clear()
    return prepared
