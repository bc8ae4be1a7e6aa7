"""One customer as its page shows it: the record (scoped to an account manager's own customers),
who owns each assignment field and what a manual edit would meet there, a page of the assignment
history told in words, and, for ops readers, the latest runs.

The page answers Upflow's "manual update not saved" confusion before the user saves, so the
verdict for a manual edit is computed here with the same precedence rule the assignment service
applies (``hub.domain.precedence.judge``), never guessed by a template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.db.models import AssignmentHistory, Customer, RecipeRun, User, Workflow
from hub.db.models.customers import read_ownership
from hub.db.types import utcnow
from hub.domain import precedence
from hub.domain.precedence import Ownership, judge
from hub.domain.sources import RANK, Source, fields_allowed, rank
from hub.services.assignment import ACCOUNT_MANAGERS, CUSTOM_PREFIX, WORKFLOW
from hub.services.directory import customers as directory
from hub.services.directory.field_names import api_field_name
from hub.services.hub import Hub
from hub.services.pages import Page
from hub.services.queries.runs import RunFilter, list_runs

HISTORY_SIZE = 50
RUNS_SIZE = 10
EDIT_SOURCE = Source.MANUAL
# The page's names for the editable fields (its URLs, forms and data-field hooks) and the
# assignment service's names for them.
EDITABLE = {"workflow": WORKFLOW, "accountManagers": ACCOUNT_MANAGERS}
LABELS = {WORKFLOW: "Workflow", ACCOUNT_MANAGERS: "Account managers"}
SOURCE_ROLES: dict[str, str] = {
    Source.SALESFORCE: "the CRM: an account owner there becomes the account manager",
    Source.API: "REST API writes, and recipes by default",
    Source.SMART_RULE: "recipes that declare source: smart_rule",
    Source.CSV: "CSV imports",
    Source.MANUAL: "edits on this page and bulk assignments from the customer list",
}


@dataclass(frozen=True)
class Standing:
    """Who owns one assignment field, and what a manual edit made now would meet there."""

    key: str  # the page's name: workflow, accountManagers, customFields.<name>
    api_field: str  # as the API and release_field name it: dunningPlanId, accountManagers, ...
    label: str
    owner: str | None
    owner_rank: int
    changed_at: datetime | None
    summary: str  # "Owned by api (rank 3)"
    consequence: str  # in words: what a manual edit would meet, and the way out
    overruled: bool  # a manual edit now would not be saved
    value: Any

    @property
    def release_consequence(self) -> str:
        """What the release confirmation spells out before the admin confirms."""
        return (f"{self.owner} (rank {self.owner_rank}) owns this field now. After the release no "
                "source owns it: the current value stays, and the next write from any source (a "
                f"manual edit, a CSV line, a recipe, the API) will be applied. A later write from "
                f"{self.owner} takes the field back.")


@dataclass(frozen=True)
class CauseLink:
    """What caused a history entry, as a line of text and (when there is one) where to see it."""

    kind: str  # run, import, bulk_job, api_request, page_edit, other: decides who may follow it
    text: str
    href: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    recorded_at: datetime
    occurred_at: datetime
    key: str
    label: str
    source: str
    old: str
    new: str
    outcome: str
    reason: str
    owner_source: str | None
    actor: str | None
    cause: CauseLink


@dataclass(frozen=True)
class HistoryPage:
    """One page of the timeline, newest first; ``number`` counts from 1."""

    number: int
    size: int
    entries: list[HistoryEntry]
    has_older: bool


@dataclass(frozen=True)
class Rung:
    rank: int
    sources: tuple[str, ...]
    writes: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    standings: list[Standing]  # workflow, account managers, then the custom fields by name
    history: HistoryPage
    runs: Page[RecipeRun] | None  # None when the viewer may not read the run log
    workflows: list[Workflow]  # for the workflow select and to name workflow ids
    users: list[User]  # people who may be chosen as account managers (admins' form only)

    def standing(self, key: str) -> Standing | None:
        return next((s for s in self.standings if s.key == key), None)

    @property
    def custom_standings(self) -> list[Standing]:
        return [s for s in self.standings if s.key not in EDITABLE]


def customer_profile(hub: Hub, ref: str, visible_to_user_id: str | None, with_runs: bool,
                     history_page: int = 1, for_editing: bool = False) -> CustomerProfile:
    """A customer outside an account manager's scope is a NotFound, as with their API key."""
    now = utcnow()
    with hub.uow(read_only=True) as uow:
        customer = directory.find_customer(uow.session, ref, visible_to_user_id)
        workflows = list(uow.session.scalars(select(Workflow).order_by(Workflow.name)))
        rows = list(uow.session.scalars(
            select(AssignmentHistory).where(AssignmentHistory.customer_id == customer.id)
            .order_by(AssignmentHistory.id.desc())
            .offset((history_page - 1) * HISTORY_SIZE).limit(HISTORY_SIZE + 1)))
        users = list(uow.session.scalars(select(User).order_by(User.email))) if for_editing else []
        managers = [u.email for u in customer.account_managers]
    names = {w.id: w.name for w in workflows}
    entries = [history_entry(row, names) for row in rows[:HISTORY_SIZE]]
    history = HistoryPage(history_page, HISTORY_SIZE, entries, len(rows) > HISTORY_SIZE)
    runs = list_runs(hub, RunFilter(customer=customer.external_id), 0, RUNS_SIZE) if with_runs else None
    choosable = [u for u in users if u.status != "deactivated" or u.email in managers]
    return CustomerProfile(customer, standings_of(customer, managers, now), history, runs, workflows,
                           choosable)


# -- who owns each field, and why --------------------------------------------------------------


def standings_of(customer: Customer, managers: list[str], now: datetime) -> list[Standing]:
    owners = read_ownership(customer.ownership)
    custom = sorted(set(customer.custom_fields or {}) |
                    {f[len(CUSTOM_PREFIX):] for f in owners if f.startswith(CUSTOM_PREFIX)})
    fields = [(WORKFLOW, customer.workflow_id), (ACCOUNT_MANAGERS, managers)]
    fields += [(CUSTOM_PREFIX + name, (customer.custom_fields or {}).get(name)) for name in custom]
    standings = []
    for field, value in fields:
        owner = owners.get(field)
        ownership = Ownership(owner.source, owner.changed_at) if owner else Ownership(None, None)
        standings.append(standing(field, ownership, value, now))
    return standings


def standing(field: str, owner: Ownership, value: Any, now: datetime) -> Standing:
    """The owner of one field and, in words, what a manual edit made ``now`` would meet."""
    verdict = judge(field, owner, EDIT_SOURCE, now)
    mine, theirs = rank(EDIT_SOURCE), rank(owner.source)
    release = " An admin can release the field to let it be written again."
    if owner.source is None:
        summary = "No source owns this field yet"
        consequence = "A manual edit will be applied: any source may write a field nobody owns."
    else:
        summary = f"Owned by {owner.source} (rank {theirs})"
        if verdict.outcome == precedence.OVERRULED:
            consequence = (f"A manual edit (rank {mine}) will be overruled: {owner.source} ranks higher."
                           + release)
        elif verdict.outcome == precedence.STALE:
            consequence = ("A manual edit made now will be stale: the change that set the field is "
                           "dated later than now, and of the same rank the newer change wins." + release)
        elif verdict.outcome == precedence.REFUSED:
            consequence = f"A manual edit is refused: {verdict.reason}."
        elif mine == theirs:
            consequence = ("A manual edit of the same rank and newer will be applied: of the same rank, "
                           "the newer change wins.")
        else:
            consequence = f"A manual edit (rank {mine}) will be applied: it ranks above {owner.source}."
    return Standing(page_key(field), api_field_name(field), field_label(field), owner.source, theirs,
                    owner.changed_at, summary, consequence, not verdict.allowed, value)


def page_key(field: str) -> str:
    """The page's name for a field: its API name, except the workflow (not its dunningPlanId)."""
    return "workflow" if field == WORKFLOW else api_field_name(field)


def field_label(field: str) -> str:
    return LABELS.get(field) or f"Custom field {field[len(CUSTOM_PREFIX):]}"


def precedence_ladder() -> list[Rung]:
    """The ranks, highest first, from the rule itself, so the page's explanation cannot drift."""
    ranks = sorted(set(RANK.values()), reverse=True)
    ladder = []
    for value in ranks:
        sources = tuple(s for s, r in RANK.items() if r == value)
        allowed = [fields_allowed(s) for s in sources]
        writes = ("account managers only" if all(a == (ACCOUNT_MANAGERS,) for a in allowed)
                  else "every field")
        ladder.append(Rung(value, tuple(str(s) for s in sources), writes,
                           tuple(SOURCE_ROLES[s] for s in sources)))
    return ladder


# -- what a save did, in words ------------------------------------------------------------------


@dataclass(frozen=True)
class SaveReport:
    """The outcome of one field's save or release, as the panel announces it."""

    key: str
    label: str
    outcome: str
    message: str
    owner: str | None  # the source that kept the field (overruled, stale) or lost it (released)


def save_report(key: str, outcome: str, owner: str | None) -> SaveReport:
    """``owner`` is the source that kept the field (overruled, stale) or that owned it (released)."""
    field = EDITABLE.get(key) or CUSTOM_PREFIX + key[len("customFields."):]
    messages = {
        precedence.APPLIED: "Applied: saved as a manual edit; the field is now owned by manual.",
        precedence.UNCHANGED: "Unchanged: the field already had this value.",
        precedence.OVERRULED: f"Not saved: owned by {owner}, which ranks higher.",
        precedence.STALE: f"Not saved: the change from {owner} that set the field is newer.",
        precedence.REFUSED: "Not saved: a manual edit may not write this field.",
        "released": (f"Released: {owner or 'no source'} no longer owns the field; the next write "
                     "from any source will be applied."),
    }
    named = owner if outcome in (precedence.OVERRULED, precedence.STALE, "released") else None
    label = field_label(field) if key in EDITABLE or key.startswith("customFields.") else key
    return SaveReport(key, label, outcome, messages.get(outcome, outcome), named)


# -- the history, in words ----------------------------------------------------------------------


def history_entry(row: AssignmentHistory, workflow_names: dict[str, str]) -> HistoryEntry:
    reason = row.reason or ""
    if row.outcome == "released" and row.owner_source:
        reason = f"{reason} (was owned by {row.owner_source})".strip()
    return HistoryEntry(
        row.id, row.recorded_at, row.occurred_at, page_key(row.field), field_label(row.field),
        row.source, value_text(row.field, row.old_value, workflow_names),
        value_text(row.field, row.new_value, workflow_names), row.outcome, reason,
        row.owner_source, row.actor, cause_link(row.cause_type, row.cause_id, row.actor))


def value_text(field: str, value: Any, workflow_names: dict[str, str]) -> str:
    """Workflow ids with their names, manager lists as emails, custom fields as JSON."""
    if value is None or value == []:
        return "none"
    if field == WORKFLOW:
        name = workflow_names.get(str(value))
        return f"{name} ({value})" if name else str(value)
    if field == ACCOUNT_MANAGERS and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def cause_link(kind: str, ref: str | None, actor: str | None) -> CauseLink:
    """Where a decision came from; the link goes to the run, import or bulk job that made it."""
    ref = ref or ""
    if kind == "run" and ref.isdigit():
        return CauseLink("run", f"run #{ref}", f"/runs/{ref}")
    if kind == "import_line":
        import_id, _, line = ref.partition(":")
        if import_id.isdigit():
            text = f"import {import_id}, line {line}" if line else f"import {import_id}"
            return CauseLink("import", text, f"/imports/{import_id}")
    if kind == "bulk_assign":
        job = ref.removeprefix("bulk_job:")
        if ref.startswith("bulk_job:") and job.isdigit():
            return CauseLink("bulk_job", f"bulk job {job}", f"/customers/bulk/jobs/{job}")
        if not ref:  # a small selection, applied at once from the customer list
            return CauseLink("other", "bulk assignment from the customer list")
        return CauseLink("api_request", f"bulk assignment through the API, request {ref}")
    if kind == "api_request":
        return CauseLink("api_request", f"API request {ref}".strip())
    if kind == "page_edit":
        who = (actor or "someone").removeprefix("user:")
        return CauseLink("page_edit", f"edited on this page by {who}")
    if kind == "demo":
        return CauseLink("other", "demo data (hub demo)")
    return CauseLink("other", f"{kind} {ref}".strip())
