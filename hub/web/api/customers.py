"""Customer endpoints: list, get, PUT, upsert, history, bulk-assign, release."""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context
from sqlalchemy import select

from hub.db.models import AssignmentHistory
from hub.imports.report import iter_csv
from hub.services import customers as svc
from hub.services.assignment import AssignmentService
from hub.services.payloads import validate
from hub.services.representation import customer_dict, history_dict
from hub.web.context import (
    current_hub,
    json_body,
    paging,
    principal,
    request_cause,
    require,
    visible_user_id,
)

bp = Blueprint("customers", __name__)
OPERATIONS = [
    ("get", "/customers", "List customers (filters: dunningPlanId, workflow, accountManager, "
     "customFields.<key>, q, unassigned; paging offset/limit)", "customers", None),
    ("post", "/customers", "Create or update a customer by externalId (upsert)", "customers",
     "api/customer_write.schema.json"),
    ("get", "/customers/{id}", "Get a customer by hub id or external:{externalId}", "customers",
     None),
    ("put", "/customers/{id}", "Update a customer; answers a per-field outcome", "customers",
     "api/customer_write.schema.json"),
    ("get", "/customers/{id}/history", "Assignment history, newest first", "customers", None),
    ("post", "/customers/{id}/release", "Release a field back to the lowest rank (admin)",
     "customers", "api/release.schema.json"),
    ("post", "/customers/bulk-assign", "Assign to every customer matching a filter, as manual",
     "customers", "api/bulk_assign.schema.json"),
    ("get", "/customers/export.csv", "Customers as CSV (same filters) in the columns the import reads",
     "customers", None),
]
WRITERS = ("admin", "integration")
READERS = ("admin", "integration", "account_manager")


def filter_from_args() -> svc.CustomerFilter:
    args = request.args
    custom = {k[len("customFields.") :]: v for k, v in args.items() if k.startswith("customFields.")}
    return svc.CustomerFilter(
        dunning_plan_id=args.get("dunningPlanId"),
        workflow_name=args.get("workflow"),
        account_manager=args.get("accountManager"),
        text=args.get("q"),
        custom_fields=custom,
        unassigned=args.get("unassigned") in ("1", "true"),
        visible_to_user_id=visible_user_id(),
    )


@bp.get("/customers")
@require(*READERS)
def list_customers():
    offset, limit = paging()
    with current_hub().uow() as uow:
        total, items = svc.list_customers(uow.session, filter_from_args(), offset, limit)
        return {"offset": offset, "limit": limit, "total": total,
                "customers": [customer_dict(c) for c in items]}


@bp.get("/customers/export.csv")
@require(*READERS)
def export_csv():
    flt = filter_from_args()
    hub = current_hub()

    def generate():  # type: ignore[no-untyped-def]
        with hub.uow() as uow:
            yield from iter_csv(svc.EXPORT_COLUMNS, svc.export_rows(uow.session, flt))

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=customers.csv"})


@bp.get("/customers/<path:ref>")
@require(*READERS)
def get_customer(ref: str):
    with current_hub().uow() as uow:
        return customer_dict(svc.find_customer(uow.session, ref, visible_user_id()))


@bp.put("/customers/<path:ref>")
@require(*WRITERS)
def put_customer(ref: str):
    write = svc.CustomerWrite.from_payload(json_body())
    with current_hub().uow() as uow:
        customer = svc.find_customer(uow.session, ref)
        outcomes = svc.apply_write(uow.session, customer, write, request_cause())
        uow.commit()
        return {"customer": customer_dict(customer), "outcomes": outcomes}


@bp.post("/customers")
@require(*WRITERS)
def upsert_customer():
    write = svc.CustomerWrite.from_payload(json_body())
    with current_hub().uow() as uow:
        customer, created = svc.upsert_customer(uow.session, write)
        outcomes = svc.apply_write(uow.session, customer, write, request_cause())
        uow.commit()
        body = {"customer": customer_dict(customer), "outcomes": outcomes, "created": created}
        return body, 201 if created else 200


@bp.get("/customers/<path:ref>/history")
@require(*READERS)
def customer_history(ref: str):
    offset, limit = paging(default_limit=100, max_limit=1000)
    with current_hub().uow() as uow:
        customer = svc.find_customer(uow.session, ref, visible_user_id())
        rows = uow.session.scalars(
            select(AssignmentHistory)
            .where(AssignmentHistory.customer_id == customer.id)
            .order_by(AssignmentHistory.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return {"customerId": customer.id, "offset": offset, "limit": limit,
                "history": [history_dict(h) for h in rows]}


@bp.post("/customers/<path:ref>/release")
@require("admin")
def release_field(ref: str):
    body = validate("api/release.schema.json", json_body())
    with current_hub().uow() as uow:
        customer = svc.find_customer(uow.session, ref)
        field = svc.internal_field_name(body["field"])
        outcome = AssignmentService(uow.session).release(customer.id, field, cause=request_cause())
        uow.commit()
        return {"customer": customer_dict(customer), "outcome": outcome.to_dict()}


@bp.post("/customers/bulk-assign")
@require("admin")
def bulk_assign():
    body = validate("api/bulk_assign.schema.json", json_body())
    write = svc.CustomerWrite.from_payload({k: v for k, v in body.items() if k != "filter"})
    flt = svc.filter_from_body(body["filter"])
    with current_hub().uow() as uow:
        result = svc.bulk_assign(uow.session, flt, write, request_cause("bulk_assign"))
        uow.commit()
        return {**result, "requestedBy": principal().actor}
