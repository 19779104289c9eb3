"""The sandbox's state: providers, their models and tags (``db`` holds the SQLite side:
schema, connections, transactions and why they are safe under concurrent writers).

The store knows nothing of HTTP: a missing provider or model is a ``Missing`` error, and the
builder callbacks of the upserts may raise whatever the caller wants to see come out.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conductor_integrations.sandbox.db import Database, StoreError

__all__ = [
    "Audit",
    "BulkItem",
    "Missing",
    "ModelRow",
    "PromptRow",
    "ProviderRow",
    "Store",
    "StoreError",
    "Tag",
]


class Missing(LookupError):
    """Raised when the provider (or model) an operation needs does not exist."""

    def __init__(self, what: str, name: str):
        super().__init__(f"{what} {name!r} not found")
        self.what = what
        self.name = name


Tag = tuple[str, str]


@dataclass
class Audit:
    create_time: int
    update_time: int
    created_by: str
    updated_by: str


@dataclass
class ProviderRow:
    name: str
    type: str
    category: str
    description: str
    enabled: bool
    configuration: dict[str, Any]
    audit: Audit
    tags: list[Tag] = field(default_factory=list)
    models_count: int = 0


@dataclass
class ModelRow:
    provider: str
    api: str
    description: str
    enabled: bool
    configuration: dict[str, Any]
    max_tokens: int | None
    audit: Audit
    tags: list[Tag] = field(default_factory=list)


@dataclass
class PromptRow:
    """A prompt template associated with one model (the sandbox keeps only its name)."""

    provider: str
    api: str
    name: str
    audit: Audit


@dataclass
class BulkItem:
    """One provider of a bulk save: its builder, its models' builders and tags to add."""

    name: str
    build: Callable[[ProviderRow | None], ProviderRow]
    models: list[tuple[str, Callable[[ModelRow | None], ModelRow]]]
    tags: list[Tag]


_PROVIDER_COLUMNS = (
    "name, type, category, description, enabled, configuration, "
    "create_time, update_time, created_by, updated_by"
)
_MODEL_COLUMNS = (
    "provider, api, description, enabled, configuration, max_tokens, "
    "create_time, update_time, created_by, updated_by"
)


def _provider(row: sqlite3.Row | tuple[Any, ...], models_count: int = 0) -> ProviderRow:
    return ProviderRow(
        name=row[0],
        type=row[1],
        category=row[2],
        description=row[3],
        enabled=bool(row[4]),
        configuration=json.loads(row[5]),
        audit=Audit(row[6], row[7], row[8], row[9]),
        models_count=models_count,
    )


def _model(row: sqlite3.Row | tuple[Any, ...]) -> ModelRow:
    return ModelRow(
        provider=row[0],
        api=row[1],
        description=row[2],
        enabled=bool(row[3]),
        configuration=json.loads(row[4]),
        max_tokens=row[5],
        audit=Audit(row[6], row[7], row[8], row[9]),
    )


class Store:
    """Providers, models and tags in the SQLite file at ``path`` (created with its folder
    when missing). Safe to share between threads; ``close()`` when done."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db = Database(self.path)
        self._read = self._db.read
        self._write = self._db.write

    def close(self) -> None:
        """Close the pooled connections; connections in use close when returned."""
        self._db.close()

    # -- tags --------------------------------------------------------------------------

    @staticmethod
    def _tags(
        conn: sqlite3.Connection, provider: str | None, api: str = ""
    ) -> dict[tuple[str, str], list[Tag]]:
        sql = "SELECT provider, api, key, value FROM tag"
        args: tuple[Any, ...] = ()
        if provider is not None:
            sql += " WHERE provider = ?"
            args = (provider,)
        out: dict[tuple[str, str], list[Tag]] = {}
        for prov, owner, key, value in conn.execute(sql + " ORDER BY rowid", args):
            out.setdefault((prov, owner), []).append((key, value))
        return out

    def get_tags(self, provider: str, api: str = "") -> list[Tag]:
        """The tags of a provider (``api`` empty) or of one of its models."""
        with self._read() as conn:
            self._require(conn, provider, api)
            return self._tags(conn, provider).get((provider, api), [])

    def put_tags(self, provider: str, api: str, tags: list[Tag]) -> None:
        """Add tags: every (key, value) pair is kept, several values of one key too (as the
        Orkes docs' examples show); a pair already there stays once."""
        with self._write() as conn:
            self._require(conn, provider, api)
            self._add_tags(conn, provider, api, tags)

    @staticmethod
    def _add_tags(conn: sqlite3.Connection, provider: str, api: str, tags: list[Tag]) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO tag (provider, api, key, value) VALUES (?, ?, ?, ?)",
            [(provider, api, k, v) for k, v in tags],
        )

    def delete_tags(self, provider: str, api: str, tags: list[tuple[str, str | None]]) -> None:
        """Remove the tags that match key and value (value None: any value)."""
        with self._write() as conn:
            self._require(conn, provider, api)
            for key, value in tags:
                conn.execute(
                    "DELETE FROM tag WHERE provider = ? AND api = ? AND key = ? AND (? IS NULL OR value = ?)",
                    (provider, api, key, value, value),
                )

    @staticmethod
    def _require(conn: sqlite3.Connection, provider: str, api: str = "") -> None:
        if conn.execute("SELECT 1 FROM provider WHERE name = ?", (provider,)).fetchone() is None:
            raise Missing("integration provider", provider)
        if (
            api
            and conn.execute("SELECT 1 FROM model WHERE provider = ? AND api = ?", (provider, api)).fetchone()
            is None
        ):
            raise Missing("integration", f"{provider}/{api}")

    # -- providers ---------------------------------------------------------------------

    def get_provider(self, name: str) -> ProviderRow | None:
        with self._read() as conn:
            found = self._providers(conn, "WHERE name = ?", (name,))
            return found[0] if found else None

    def list_providers(self, category: str | None = None, active_only: bool = False) -> list[ProviderRow]:
        where, args = self._filter(category, active_only)
        with self._read() as conn:
            return self._providers(conn, where, args)

    @staticmethod
    def _filter(category: str | None, active_only: bool) -> tuple[str, tuple[Any, ...]]:
        clauses, args = [], []
        if category is not None:
            clauses.append("category = ?")
            args.append(category)
        if active_only:
            clauses.append("enabled = 1")
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)

    def _providers(self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[ProviderRow]:
        rows = conn.execute(
            f"SELECT {_PROVIDER_COLUMNS}, "
            "(SELECT COUNT(*) FROM model m WHERE m.provider = provider.name) "
            f"FROM provider {where} ORDER BY name",
            args,
        ).fetchall()
        if not rows:
            return []
        tags = self._tags(conn, rows[0][0] if len(rows) == 1 else None)
        out = []
        for row in rows:
            prov = _provider(row, models_count=row[10])
            prov.tags = tags.get((prov.name, ""), [])
            out.append(prov)
        return out

    def upsert_provider(
        self, name: str, build: Callable[[ProviderRow | None], ProviderRow]
    ) -> tuple[ProviderRow, bool]:
        """Create or update ``name``: ``build`` gets the stored provider (None when new) inside
        the write transaction and returns the one to save; whatever it raises rolls back.
        Returns the saved provider (with tags and models count) and whether it was created."""
        with self._write() as conn:
            return self._upsert_provider(conn, name, build)

    def _upsert_provider(
        self, conn: sqlite3.Connection, name: str, build: Callable[[ProviderRow | None], ProviderRow]
    ) -> tuple[ProviderRow, bool]:
        found = self._providers(conn, "WHERE name = ?", (name,))
        existing = found[0] if found else None
        row = build(existing)
        values = (
            name,
            row.type,
            row.category,
            row.description,
            int(row.enabled),
            json.dumps(row.configuration),
            row.audit.create_time,
            row.audit.update_time,
            row.audit.created_by,
            row.audit.updated_by,
        )
        conn.execute(
            f"INSERT OR REPLACE INTO provider ({_PROVIDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", values
        )
        # What a read would give now, without reading it back: the values stored, read as
        # a read reads them, with the tags and models the provider had (a new one has none:
        # deleting a provider removes them, and neither can be added to one that does not exist).
        saved = _provider(values, models_count=existing.models_count if existing else 0)
        saved.tags = list(existing.tags) if existing else []
        return saved, existing is None

    def delete_provider(self, name: str) -> bool:
        """Delete a provider with its models and every tag; False when there was none."""
        with self._write() as conn:
            gone = conn.execute("DELETE FROM provider WHERE name = ?", (name,)).rowcount
            conn.execute("DELETE FROM model WHERE provider = ?", (name,))
            for table in ("tag", "prompt", "token_limit"):
                conn.execute(f"DELETE FROM {table} WHERE provider = ?", (name,))
            return gone > 0

    # -- models ------------------------------------------------------------------------

    def _models(self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[ModelRow]:
        rows = conn.execute(f"SELECT {_MODEL_COLUMNS} FROM model {where} ORDER BY provider, api", args)
        models = [_model(r) for r in rows.fetchall()]
        if models:
            provider = models[0].provider if all(m.provider == models[0].provider for m in models) else None
            tags = self._tags(conn, provider)
            for m in models:
                m.tags = tags.get((m.provider, m.api), [])
        return models

    def get_model(self, provider: str, api: str) -> ModelRow:
        with self._read() as conn:
            self._require(conn, provider, api)
            return self._models(conn, "WHERE provider = ? AND api = ?", (provider, api))[0]

    def list_models(self, provider: str | None, active_only: bool = False) -> list[ModelRow]:
        """The models of ``provider`` (None: of every provider)."""
        clauses, args = [], []
        if provider is not None:
            clauses.append("provider = ?")
            args.append(provider)
        if active_only:
            clauses.append("enabled = 1")
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        with self._read() as conn:
            if provider is not None:
                self._require(conn, provider)
            return self._models(conn, where, tuple(args))

    def upsert_model(
        self, provider: str, api: str, build: Callable[[ModelRow | None], ModelRow]
    ) -> tuple[ModelRow, bool]:
        """Create or update one model of ``provider`` (``Missing`` when the provider is not
        there); ``build`` works as in ``upsert_provider``."""
        with self._write() as conn:
            return self._upsert_model(conn, provider, api, build)

    def _upsert_model(
        self, conn: sqlite3.Connection, provider: str, api: str, build: Callable[[ModelRow | None], ModelRow]
    ) -> tuple[ModelRow, bool]:
        self._require(conn, provider)
        found = self._models(conn, "WHERE provider = ? AND api = ?", (provider, api))
        existing = found[0] if found else None
        row = build(existing)
        conn.execute(
            f"INSERT OR REPLACE INTO model ({_MODEL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                provider,
                api,
                row.description,
                int(row.enabled),
                json.dumps(row.configuration),
                row.max_tokens,
                row.audit.create_time,
                row.audit.update_time,
                row.audit.created_by,
                row.audit.updated_by,
            ),
        )
        saved = self._models(conn, "WHERE provider = ? AND api = ?", (provider, api))[0]
        return saved, existing is None

    def delete_model(self, provider: str, api: str) -> None:
        """Delete one model and its tags (``Missing`` when the provider or model is not there)."""
        with self._write() as conn:
            self._require(conn, provider, api)
            conn.execute("DELETE FROM model WHERE provider = ? AND api = ?", (provider, api))
            for table in ("tag", "prompt"):
                conn.execute(f"DELETE FROM {table} WHERE provider = ? AND api = ?", (provider, api))

    # -- bulk save ---------------------------------------------------------------------

    def save_all(self, items: list[BulkItem]) -> None:
        """Upsert several providers with their models and tags in one transaction: what a
        builder raises rolls every item back."""
        with self._write() as conn:
            for item in items:
                self._upsert_provider(conn, item.name, item.build)
                for api, build in item.models:
                    self._upsert_model(conn, item.name, api, build)
                self._add_tags(conn, item.name, "", item.tags)

    # -- prompts associated with a model -----------------------------------------------

    def associate_prompt(self, provider: str, api: str, prompt: str, when: int, who: str) -> None:
        """Associate the prompt named ``prompt`` with a model (once; again is a no-op)."""
        with self._write() as conn:
            self._require(conn, provider, api)
            conn.execute(
                "INSERT OR IGNORE INTO prompt (provider, api, name, create_time, created_by) "
                "VALUES (?,?,?,?,?)",
                (provider, api, prompt, when, who),
            )

    def prompts(self, provider: str, api: str) -> list[PromptRow]:
        """The prompts associated with a model, by name."""
        with self._read() as conn:
            self._require(conn, provider, api)
            rows = conn.execute(
                "SELECT name, create_time, created_by FROM prompt "
                "WHERE provider = ? AND api = ? ORDER BY name",
                (provider, api),
            ).fetchall()
        return [PromptRow(provider, api, name, Audit(t, t, by, by)) for name, t, by in rows]

    # -- token limits ------------------------------------------------------------------

    def token_limit(self, provider: str) -> tuple[dict[str, Any], Audit] | None:
        """The token limit saved for ``provider`` with its audit (None when none is)."""
        with self._read() as conn:
            self._require(conn, provider)
            row = conn.execute(
                "SELECT body, create_time, update_time, created_by, updated_by "
                "FROM token_limit WHERE provider = ?",
                (provider,),
            ).fetchone()
        return None if row is None else (json.loads(row[0]), Audit(*row[1:]))

    def set_token_limit(self, provider: str, body: dict[str, Any], now: int, who: str) -> None:
        with self._write() as conn:
            self._require(conn, provider)
            conn.execute(
                "INSERT INTO token_limit (provider, body, create_time, update_time, created_by, updated_by) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT (provider) DO UPDATE SET body = excluded.body, "
                "update_time = MAX(excluded.update_time, token_limit.update_time + 1), "
                "updated_by = excluded.updated_by",
                (provider, json.dumps(body), now, now, who, who),
            )
