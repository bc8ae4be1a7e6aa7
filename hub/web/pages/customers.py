"""The customer list. Account managers see only their own customers, as with their API key."""

from __future__ import annotations

from flask import Blueprint, render_template

from hub.context import current_hub
from hub.services.directory import customers as svc
from hub.web.pages.access import EVERYONE, allow, visible_user_id
from hub.web.pages.query import integer, read_query, text, with_query

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
