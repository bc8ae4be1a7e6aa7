"""One customer as its page shows it: the record (scoped to an account manager's own customers),
its latest assignment history and, for ops readers, its latest runs, in one call."""

from __future__ import annotations

from dataclasses import dataclass

from hub.db.models import Customer, RecipeRun
from hub.services.directory import customers as directory
from hub.services.hub import Hub
from hub.services.pages import Page
from hub.services.queries.runs import RunFilter, list_runs

HISTORY_SIZE = 50
RUNS_SIZE = 10


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    history: directory.CustomerHistory
    runs: Page[RecipeRun] | None  # None when the viewer may not read the run log


def customer_profile(hub: Hub, ref: str, visible_to_user_id: str | None, with_runs: bool) -> CustomerProfile:
    """A customer outside an account manager's scope is a NotFound, as with their API key."""
    customer = directory.get_customer(hub, ref, visible_to_user_id)
    history = directory.customer_history(hub, customer.id, None, 0, HISTORY_SIZE)
    runs = list_runs(hub, RunFilter(customer=customer.external_id), 0, RUNS_SIZE) if with_runs else None
    return CustomerProfile(customer, history, runs)
