"""The customer pages (read-only): the list, and one customer's profile, assignments with their
owners, assignment history and runs. Account managers see only their own customers, as with
their API key: another manager's customer is a 404, not a 403, so its existence is not told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template

from hub.context import current_hub
from hub.services.directory import customers as svc
from hub.services.directory.field_names import api_field_name
from hub.services.queries.customers import customer_profile
from hub.web.pages.access import EVERYONE, OPS_READERS, allow, can, visible_user_id
from hub.web.pages.query import integer, read_query, text, with_query

if TYPE_CHECKING:  # the web layer reads rows; it never imports the database layer to run
    from hub.db.models import Customer

bp = Blueprint("customers", __name__)
PAGE_SIZE = 50
LIST_QUERY = {"q": text(200), "offset": integer(0, 10_000_000)}


@bp.get("/customers")
@allow(*EVERYONE)
def customer_list():
    values = read_query(LIST_QUERY)
    flt = svc.CustomerFilter(text=values["q"] or None, visible_to_user_id=visible_user_id())
    found = svc.list_customers(current_hub(), flt, values["offset"] or 0, PAGE_SIZE)
    return render_template("customers/list.html", nav="Customers", found=found, values=values,
                           with_query=with_query)


@bp.get("/customers/<path:ref>")
@allow(*EVERYONE)
def customer_page(ref: str):
    profile = customer_profile(current_hub(), ref[:300], visible_user_id(), with_runs=can(*OPS_READERS))
    return render_template("customers/detail.html", nav="Customers", profile=profile,
                           customer=profile.customer, owners=owners_of(profile.customer),
                           field_name=api_field_name, with_query=with_query)


def owners_of(customer: Customer) -> dict[str, Any]:
    """Who owns each assignment field, by the field's API name (dunningPlanId, customFields.x)."""
    return {api_field_name(owner.field): owner for owner in customer.assignments}
