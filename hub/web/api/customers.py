"""Customer endpoints: list, get, PUT, upsert, history, bulk-assign, release."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.directory import customer_writes as writes
from hub.services.directory import customers as svc
from hub.web.api.declare import Api, Param, Reply, Route, paging
from hub.web.api.shapes import OBJECT, page, ref
from hub.web.context import request_cause, visible_user_id
from hub.web.downloads import csv_download
from hub.web.presenters.base import page_dict
from hub.web.presenters.customers import (
    bulk_assign_dict,
    customer_dict,
    history_page_dict,
    released_dict,
    written_dict,
)

bp = Blueprint("customers", __name__)
api = Api(bp)
WRITERS = ("admin", "integration")
READERS = ("admin", "integration", "account_manager")
CREATED_ID = {"id": "$response.body#/customer/id"}  # links from a created customer
CUSTOMER_REF = Param("id", description="The hub id, or external:{externalId}", max_length=300,
                     slashes=True)
FILTERS = (
    Param("dunningPlanId", description="Workflow id", aliases=("dunning_plan_id",)),
    Param("workflow", description="Workflow name"),
    Param("accountManager", description="Account manager email", aliases=("account_manager",),
          max_length=320),
    Param("customFields.", description="Custom field equals (customFields.segment=enterprise)", prefix=True),
    Param("q", description="Text in name, email or external id"),
    Param("unassigned", "boolean", "Only customers without a workflow"),
)
CUSTOMER = Reply("The customer", ref("Customer"))
WRITTEN = Reply("The customer and the outcome per field", ref("CustomerWritten"))


def filter_from_args(query: dict) -> svc.CustomerFilter:
    return svc.CustomerFilter(
        dunning_plan_id=query["dunningPlanId"],
        workflow_name=query["workflow"],
        account_manager=query["accountManager"],
        text=query["q"],
        custom_fields=query["customFields."],
        unassigned=bool(query["unassigned"]),
        visible_to_user_id=visible_user_id(),
    )


@api.route(Route("get", "/customers", "List customers by filter, a page at a time", "customers", READERS,
                 {200: Reply("A page of customers", page("customers", "Customer"))},
                 query=(*FILTERS, *paging())))
def list_customers(query: dict):
    found = svc.list_customers(current_hub(), filter_from_args(query), query["offset"], query["limit"])
    return page_dict("customers", found, customer_dict)


@api.route(Route("get", "/customers/export.csv", "Customers as CSV (same filters), in the columns the "
                 "import reads", "customers", READERS, {200: Reply("CSV", content_type="text/csv")},
                 query=FILTERS, errors=(429,)))
def export_csv(query: dict):
    hub, flt = current_hub(), filter_from_args(query)
    return csv_download(lambda: svc.export_file(hub, flt), "customers.csv")


@api.route(Route("get", "/customers/{id}", "Get a customer by hub id or external:{externalId}", "customers",
                 READERS, {200: CUSTOMER}, path_params=(CUSTOMER_REF,), errors=(404,)))
def get_customer(id: str):
    return customer_dict(svc.get_customer(current_hub(), id, visible_user_id()))


@api.route(Route("put", "/customers/{id}", "Update a customer; answers a per-field outcome", "customers",
                 WRITERS, {200: WRITTEN}, path_params=(CUSTOMER_REF,), body="api/customer_write.schema.json",
                 errors=(404,)))
def put_customer(id: str, body: dict):
    write = writes.CustomerWrite.from_payload(body)
    return written_dict(writes.update_customer(current_hub(), id, write, request_cause()))


@api.route(Route("post", "/customers", "Create or update a customer by externalId (upsert)", "customers",
                 WRITERS, {200: WRITTEN, 201: Reply("Created", ref("CustomerWritten"), links={
                     "GetCustomer": ("get_customers_id", CREATED_ID),
                     "CustomerHistory": ("get_customers_id_history", CREATED_ID)})},
                 body="api/customer_upsert.schema.json"))
def upsert_customer(body: dict):
    write = writes.CustomerWrite.from_payload(body)
    written = writes.create_or_update_customer(current_hub(), write, request_cause())
    return written_dict(written, upsert=True), 201 if written.created else 200


@api.route(Route("get", "/customers/{id}/history", "Assignment history, newest first", "customers", READERS,
                 {200: Reply("A page of history", ref("History"))}, path_params=(CUSTOMER_REF,),
                 query=paging(default_limit=100, max_limit=1000), errors=(404,)))
def customer_history(id: str, query: dict):
    history = svc.customer_history(current_hub(), id, visible_user_id(), query["offset"], query["limit"])
    return history_page_dict(history)


@api.route(Route("post", "/customers/{id}/release", "Release a field back to the lowest rank (admin)",
                 "customers", ("admin",), {200: Reply("The customer and the release", OBJECT)},
                 path_params=(CUSTOMER_REF,), body="api/release.schema.json", errors=(404,)))
def release_field(id: str, body: dict):
    return released_dict(writes.release_field(current_hub(), id, body["field"], request_cause()))


@api.route(Route("post", "/customers/bulk-assign", "Assign to every customer matching a filter, as manual "
                 "(dryRun: what would happen); an empty filter needs all: true", "customers", ("admin",),
                 {200: Reply("Counts per outcome, and who would overrule", ref("BulkAssignResult"))},
                 body="api/bulk_assign.schema.json"))
def bulk_assign(body: dict):
    return bulk_assign_dict(writes.bulk_assign_from_body(current_hub(), body, request_cause("bulk_assign")))
