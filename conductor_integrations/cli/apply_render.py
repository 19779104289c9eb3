"""How ``provider apply``, ``diff`` and ``apply --dry-run`` are shown.

``apply`` prints one record per provider (``name``, ``type``, ``action``, ``error``; plus
``models`` and ``tags`` for documents that carry them); ``apply --dry-run`` against a server
prints the same records as they would be, each with its ``changes``; without a server it
prints the requests. ``diff`` prints what would change, field by field, secrets as
``(secret)``. Secret values never reach this module unmasked."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from conductor_integrations import output
from conductor_integrations.errors import shown_name
from conductor_integrations.fleet.outcomes import Action
from conductor_integrations.secrets import redact

if TYPE_CHECKING:
    from conductor_integrations.documents.payload import Payload
    from conductor_integrations.fleet import outcomes, plan


def dry_run(payloads: "list[Payload]", server: Optional[str]) -> None:
    """The requests apply would send to a server where none of the providers exist yet
    (secrets masked): each provider, its models, its tags (for ``--dry-run`` with no server
    to compare with)."""
    from conductor_integrations.cli.common import NO_SERVER
    from conductor_integrations.client import endpoints
    from conductor_integrations.fleet import planning

    base = (server or NO_SERVER).rstrip("/")
    if base.endswith("/api"):
        base = base[:-4]
    root = f"{base}/api"
    requests_: list[dict[str, Any]] = []
    for p in payloads:
        url = root + endpoints.provider_path(p.name)
        requests_.append({"method": "POST", "url": url, "body": redact.mask_provider(p.body, p.secret_keys)})
        for m in planning.model_specs(p) or ():
            body = endpoints.model_body(
                None, m.given.get("description"), m.given.get("enabled"), m.configuration
            )
            requests_.append(
                {
                    "method": "POST",
                    "url": root + endpoints.model_path(p.name, m.name),
                    "body": redact.mask_provider(body, m.secret_keys),
                }
            )
        tags = planning.tag_specs(p)
        if tags:
            requests_.append(
                {"method": "PUT", "url": f"{url}/tags", "body": endpoints.tag_objects(list(tags.items()))}
            )
    if output.settings.format == "table":
        for r in requests_:
            output.text(f"{r['method']} {r['url']}")
            output.text(output.to_json(r["body"]))
    else:
        output.data(requests_)
    output.info(f"dry run: {len(requests_)} request(s) not sent")


def report(rep: "outcomes.Report", dry_run: bool = False) -> None:
    """Apply's results; with ``dry_run`` the plan (each record with its ``changes``)."""
    records = [o.record() for o in rep.outcomes]
    if dry_run:
        for r, o in zip(records, rep.outcomes, strict=True):
            r["changes"] = [c.record() for c in o.changes] if o.action != Action.UNCHANGED else []
    if output.settings.format == "table":
        rows = [
            {**r, "error": r["error"] or "", "children": _children(o), "changes": _paths(o)}
            for r, o in zip(records, rep.outcomes, strict=True)
        ]
        columns = [("name", "NAME"), ("type", "TYPE"), ("action", "ACTION")]
        if dry_run:
            columns.append(("changes", "CHANGES"))
        if any(row["children"] for row in rows):
            columns.append(("children", "MODELS/TAGS"))
        output.table(rows, [*columns, ("error", "ERROR")])
    else:
        output.data(records)
    for o in rep.outcomes:
        if o.action == Action.FAILED:
            output.error(f"{shown_name(o.name)}: {o.error}")
    always = (Action.CREATED, Action.UPDATED, Action.UNCHANGED, Action.FAILED)
    counts = [f"{rep.count(a)} {a.value}" for a in Action if rep.count(a) or a in always]
    output.info(("dry run, nothing sent: " if dry_run else "") + ", ".join(counts))
    if rep.interrupted:
        output.error("interrupted: the providers marked interrupted were not sent; run apply again to finish")
    elif rep.stopped:
        n = rep.count(Action.NOT_SENT)
        output.error(
            f"{rep.stopped}: {output.counted(n, 'provider')} not sent",
            hints=["run apply again once the server answers: it sends only what still differs"],
        )


def _paths(o: "outcomes.Outcome") -> str:
    """The fields a planned provider would change, for the dry-run table."""
    if o.action not in (Action.CREATED, Action.UPDATED):
        return ""
    return ", ".join(dict.fromkeys(c.path for c in o.changes))


def _children(o: "outcomes.Outcome") -> str:
    """``2 models created, 1 unchanged; tags updated`` for the table."""
    parts = []
    if o.models:
        counts: dict[str, int] = {}
        for m in o.models:
            counts[m.action.value] = counts.get(m.action.value, 0) + 1
        said = ", ".join(f"{n} {a}" for a, n in counts.items())
        parts.append(f"{output.counted(len(o.models), 'model')}: {said}")
    if o.tags is not None:
        parts.append(f"tags {o.tags.value}")
    return "; ".join(parts)


_MARK = {"create": "+", "update": "~", "type-change": "!", "unchanged": "=", "invalid": "!"}
_WORD = {
    "create": "will be created",
    "update": "will be updated",
    "type-change": "type change: refused by apply (delete and create it instead)",
    "unchanged": "unchanged",
    "invalid": "refused by apply (exit 3)",
}


def counts(pl: "plan.ProviderPlan", ignore_secrets: bool = False) -> bool:
    """Whether ``pl`` counts as a difference in diff's exit code: with ``ignore_secrets``
    a provider whose only changes are secrets that cannot be verified does not."""
    if not pl.differs:
        return False
    if not ignore_secrets or pl.action not in ("update",):
        return True
    return any(not c.unverifiable for c in pl.changes) or not pl.changes


def plans(
    found: "list[plan.ProviderPlan]",
    ignore_secrets: bool = False,
    doomed: "Sequence[tuple[str, Optional[str]]]" = (),
) -> None:
    """What diff found: a table of changes for people, records for machines; ``doomed``:
    the providers ``--prune`` would delete."""
    if output.settings.format == "table":
        for pl in found:
            if not pl.differs:
                continue
            word = _WORD[pl.action] + (f": {pl.error}" if pl.error else "")
            if not counts(pl, ignore_secrets):
                word += " (only unverifiable secrets: not counted, --ignore-secrets)"
            output.text(f"{_MARK[pl.action]} {pl.name} ({pl.type}): {word}")
            for change in pl.changes:
                output.text(f"    {change.render(ignore_secrets)}")
        for name, type_ in doomed:
            output.text(f"- {shown_name(name)} ({type_}): will be deleted (--prune)")
    else:
        output.data(
            [
                {
                    "name": pl.name,
                    "type": pl.type,
                    "action": pl.action,
                    "changes": [c.record() for c in pl.changes],
                    **({"error": pl.error} if pl.error else {}),
                    **({"counted": counts(pl, ignore_secrets)} if ignore_secrets else {}),
                }
                for pl in found
            ]
            + [{"name": name, "type": type_, "action": "delete", "changes": []} for name, type_ in doomed]
        )
    differing = [pl.name for pl in found if counts(pl, ignore_secrets)] + [name for name, _ in doomed]
    unverified = sum(1 for pl in found if pl.differs and not counts(pl, ignore_secrets))
    also = f"; {unverified} with unverifiable secrets only, not counted" if unverified else ""
    verb = "differs" if len(differing) == 1 else "differ"
    output.info(
        f"{len(differing)} of {output.counted(len(found) + len(doomed), 'provider')} {verb}{also}"
        if differing
        else f"no differences ({output.counted(len(found), 'provider')}{also})"
    )
