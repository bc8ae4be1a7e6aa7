"""One customer's page: profile, assignments with their owners, assignment history and runs.

Account managers see only their own customers, as with their API key: another manager's
customer is a 404, not a 403, so its existence is not told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template

from hub.context import current_hub
from hub.services.directory.field_names import api_field_name
from hub.services.queries.customers import customer_profile
from hub.web.pages.access import EVERYONE, OPS_READERS, allow, can, visible_user_id
from hub.web.pages.query import with_query

if TYPE_CHECKING:  # the web layer reads rows; it never imports the database layer to run
    from hub.db.models import Customer

bp = Blueprint("customer_page", __name__)


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
