"""The embedded table of provider types.

``provider_types.json`` beside this module is the single source of truth: validation,
``integ types``, the sandbox's ``/api/integrations/def``, completions and the man pages all
read it through this module. Its ``_reading`` list records how the reference page was read.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

#: no conditional keys (shared: a ``ProviderType`` is never changed)
_NO_CONDITIONS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType({})


class ProviderType(NamedTuple):
    """One provider type: its category and configuration keys (a named tuple, as
    ``errors.Problem`` says why)."""

    name: str
    label: str
    category: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    #: ``{"connectionType": {"ACCESS_KEY": ("user", "api_key"), ...}}``
    conditional: Mapping[str, Mapping[str, tuple[str, ...]]] = _NO_CONDITIONS
    #: keys the page lists as required but the server resolves (pineconedb projectName)
    resolved_by_server: tuple[str, ...] = ()
    page_row: str = "two"
    #: the secret keys, for a type a server defined (its PASSWORD and FILE fields); None
    #: for the table's own types, whose secret keys are those ``is_secret_key`` names
    secret: tuple[str, ...] | None = None

    @property
    def conditional_keys(self) -> tuple[str, ...]:
        out: list[str] = []
        for choices in self.conditional.values():
            for keys in choices.values():
                out.extend(k for k in keys if k not in out)
        return tuple(out)

    @property
    def all_keys(self) -> tuple[str, ...]:
        """Every key this type accepts, in the page's order."""
        out: list[str] = []
        for key in (*self.required, *self.conditional_keys, *self.optional):
            if key not in out:
                out.append(key)
        return tuple(out)

    @property
    def effective_required(self) -> tuple[str, ...]:
        """Required keys, less those the server resolves."""
        return tuple(k for k in self.required if k not in self.resolved_by_server)

    @property
    def secret_keys(self) -> tuple[str, ...]:
        if self.secret is not None:
            return tuple(k for k in self.all_keys if k in self.secret)
        return tuple(k for k in self.all_keys if is_secret_key(k))


class Lookups:
    """The look-ups validation and hints use, for any table of types by name (the
    embedded ``TypeTable`` and the server's ``remote.ServerTable``)."""

    __slots__ = ("known_categories", "types")

    def __init__(self, types: dict[str, ProviderType], known_categories: tuple[str, ...]) -> None:
        self.types = types
        self.known_categories = known_categories

    def get(self, name: str) -> ProviderType | None:
        return self.types.get(name)

    def names(self, category: str | None = None) -> list[str]:
        return [n for n, t in self.types.items() if category is None or t.category == category]

    def closest(self, name: str, n: int = 3) -> list[str]:
        """Known type names closest to ``name`` (for "did you mean" hints)."""
        by_lower = {k.lower(): k for k in self.types}
        if name.lower() in by_lower:
            return [by_lower[name.lower()]]
        found = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.5)
        return [by_lower[f] for f in found]


class TypeTable(Lookups):
    """The embedded table: its types and what the page says about categories and keys."""

    __slots__ = ("categories", "file_keys", "key_docs", "reading", "secret_keys")

    def __init__(
        self,
        types: dict[str, ProviderType],
        categories: tuple[str, ...],
        known_categories: tuple[str, ...],
        secret_keys: frozenset[str],
        file_keys: frozenset[str],
        key_docs: dict[str, dict[str, str]],
        reading: tuple[str, ...],
    ) -> None:
        super().__init__(types, known_categories)
        self.categories = categories
        self.secret_keys = secret_keys
        self.file_keys = file_keys
        self.key_docs = key_docs
        self.reading = reading


def _build(data: dict[str, Any]) -> TypeTable:
    types = {}
    for name, raw in data["types"].items():
        types[name] = ProviderType(
            name=name,
            label=raw["label"],
            category=raw["category"],
            required=tuple(raw["required"]),
            optional=tuple(raw["optional"]),
            conditional={
                key: {value: tuple(keys) for value, keys in choices.items()}
                for key, choices in raw.get("conditional", {}).items()
            },
            resolved_by_server=tuple(raw.get("resolved_by_server", ())),
            page_row=raw["page_row"],
        )
    return TypeTable(
        types=types,
        categories=tuple(data["categories"]),
        known_categories=tuple(data["known_categories"]),
        secret_keys=frozenset(data["secret_keys"]),
        file_keys=frozenset(data["file_keys"]),
        key_docs=data["keys"],
        reading=tuple(data["_reading"]),
    )


@cache
def table() -> TypeTable:
    """The embedded table, loaded once per process."""
    # beside this file (importlib.resources would say the same, at the cost of importing
    # tempfile, random and hashlib on every command that reads the table)
    text = Path(__file__).with_name("provider_types.json").read_text("utf-8")
    return _build(json.loads(text))


#: Key names marked PASSWORD or FILE by a server's definitions, met by this process.
_server_secret_keys: set[str] = set()
#: Written together (``clientsecret``, ``APIKEY``): secret wherever they appear in a key.
_SECRET_RUNS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "passphrase",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sharedkey",
    "accountkey",
    "subscriptionkey",
    "authvalue",
    "authkey",
    "connectionstring",
    "connstring",
    "connectionuri",
    "mongouri",
    "sasurl",
    "authheader",
    "basicauth",
    "userinfo",
    "passcode",
)
#: Single words that make a key secret (``sasToken``, ``authToken``, ``sas``,
#: ``authorization``, ``saslJaasConfig``, ``dsn``, ``pem``, ``pass``).
_SECRET_WORDS = frozenset(
    {"token", "sas", "pat", "jwt", "bearer", "cookie", "authorization", "jaas", "dsn", "pem", "pass"}
)
#: Words that make the word ``key`` after them a secret (``sslKey``, ``client_key``); other
#: keys (``routingKey``, ``partitionKey``) are names, not secrets.
_KEY_OWNERS = frozenset({"ssl", "tls", "client", "priv", "private", "hmac", "session", "license", "app"})
#: A last word that makes the key *about* a token rather than one (``tokenLimit``,
#: ``tokenEndpoint``): only for the words above, never for the runs.
_ABOUT_WORDS = frozenset(
    {
        "limit",
        "limits",
        "count",
        "size",
        "length",
        "period",
        "ttl",
        "timeout",
        "expiry",
        "expiration",
        "url",
        "uri",
        "endpoint",
        "path",
        "type",
        "types",
        "header",
        "name",
        "prefix",
        "location",
    }
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def key_words(key: str) -> list[str]:
    """The words of a key, lower case: camelCase, snake_case, kebab-case, dots, spaces."""
    return [w.lower() for w in _WORD.findall(key)]


def note_server_secret_keys(keys: Any) -> None:
    """Remember keys a server's definitions mark PASSWORD or FILE: secret from now on, in
    this process, for every type (over-masking is harmless)."""
    _server_secret_keys.update(k for k in keys if isinstance(k, str) and k)


def server_secret_keys_noted() -> int:
    """How many keys servers' definitions have marked secret so far: a caller that keeps
    ``is_secret_key``'s answers keeps them while this stays the same (it only grows)."""
    return len(_server_secret_keys)


def is_secret_key(key: str) -> bool:
    """True for configuration keys whose values are secrets: the table's PASSWORD and FILE
    keys (``awsAccountId`` ...), keys a server's definitions marked so, and any key whose
    name looks secret (password, pass, passcode, secret, token, api key, private key, the
    key of ssl, tls, client, hmac, session, license or app, credentials, passphrase, auth
    value, authorization, auth header, basic auth, JAAS config, user info, connection
    string or URI, DSN, PEM, sas ..., in any case and spelling).

    The one place that decides; masking, export, prompting and diffing all ask it. It
    leans towards yes: ``schemaRegistryApiKey`` is secret although the server calls it
    TEXT. A key *about* a token (``tokenLimit``, ``maxTokens``, ``tokenEndpoint``) and
    where a secret is kept (``keyStoreLocation``) are not secrets."""
    if not isinstance(key, str) or not key:
        return False
    if key in table().secret_keys or key in _server_secret_keys:
        return True
    return _looks_secret(key)


@cache
def _looks_secret(key: str) -> bool:
    """The name rules of ``is_secret_key`` (cached: asked for every key of every body)."""
    words = key_words(key)
    compact = "".join(words)
    if any(run in compact for run in _SECRET_RUNS):
        return True
    owned_key = any(w == "key" and i and words[i - 1] in _KEY_OWNERS for i, w in enumerate(words))
    if not owned_key and not any(w in _SECRET_WORDS for w in words) and not compact.endswith("token"):
        return False
    return words[-1] not in _ABOUT_WORDS


def closest_key(key: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The candidate closest to ``key`` (case and ``_`` insensitive first), or None."""
    norm = {c.lower().replace("_", ""): c for c in candidates}
    hit = norm.get(key.lower().replace("_", "").replace("-", ""))
    if hit:
        return hit
    found = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def field_type(ptype: ProviderType, key: str) -> str:
    """The IntegrationDef ``fieldType`` of a key: PASSWORD, FILE, DROPDOWN or TEXT."""
    tbl = table()
    if key in tbl.file_keys:
        return "FILE"
    if key in tbl.secret_keys:
        return "PASSWORD"
    if key in ptype.conditional:
        return "DROPDOWN"
    return "TEXT"
