"""The JSON shapes the API answers with, as JSON Schema (the OpenAPI document's components).

They say which keys are always there and what type each has; nested structures the hub passes
through (vendor payloads, traces, normalised events) are open objects. Schemathesis checks every
answer against these in CI, so a change of representation must change them too.
"""

from __future__ import annotations

from typing import Any

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
OBJECT = {"type": "object"}
NULLABLE_OBJECT = {"type": ["object", "null"]}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(properties) if required is None else required,
            "properties": properties}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page(items_key: str, item: str) -> dict[str, Any]:
    return obj({"offset": {"type": "integer"}, "limit": {"type": "integer"}, "total": {"type": "integer"},
                items_key: {"type": "array", "items": ref(item)}})


def array_of(items_key: str, item: str) -> dict[str, Any]:
    return obj({items_key: {"type": "array", "items": ref(item)}})


OUTCOME = obj({"outcome": {"enum": ["applied", "unchanged", "overruled", "stale", "refused", "released"]}},
              required=["outcome"])

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": obj({"error": obj({"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
                               required=["code", "message"])}),
    "Customer": obj({
        "id": {"type": "string"}, "externalId": {"type": "string"}, "sourceSystem": NULLABLE_STRING,
        "name": NULLABLE_STRING, "email": NULLABLE_STRING, "currency": NULLABLE_STRING,
        "paymentMethod": NULLABLE_STRING, "dunningPlanId": NULLABLE_STRING, "workflowName": NULLABLE_STRING,
        "accountManagers": {"type": "array", "items": {"type": "string"}}, "customFields": OBJECT,
        "assignments": OBJECT, "createdAt": TIME, "updatedAt": TIME,
    }),
    "Outcome": OUTCOME,
    "CustomerWritten": obj({"customer": ref("Customer"),
                            "outcomes": {"type": "object", "additionalProperties": OUTCOME}},
                           required=["customer", "outcomes"]),
    "HistoryEntry": obj({
        "id": {"type": "integer"}, "field": {"type": "string"}, "source": {"type": "string"},
        "outcome": {"type": "string"}, "reason": NULLABLE_STRING, "oldValue": {}, "newValue": {},
        "ownerSource": NULLABLE_STRING, "occurredAt": TIME, "recordedAt": TIME, "cause": OBJECT,
    }),
    "History": obj({"customerId": {"type": "string"}, "offset": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "history": {"type": "array", "items": ref("HistoryEntry")}}),
    "BulkAssignResult": obj({
        "matched": {"type": "integer"},
        "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
        "overruled": {"type": "array", "items": obj({"customerId": {"type": "string"},
                                                   "field": {"type": "string"}, "owner": NULLABLE_STRING})},
        "dryRun": {"type": "boolean"}, "requestedBy": NULLABLE_STRING}),
    "Workflow": obj({"id": {"type": "string"}, "dunningPlanId": {"type": "string"},
                     "name": {"type": "string"},
                     "description": NULLABLE_STRING}),
    "User": obj({"id": {"type": "string"}, "email": {"type": "string"}, "name": NULLABLE_STRING,
                 "role": {"type": "string"}, "status": {"type": "string"}}),
    "Event": obj({
        "id": {"type": "integer"}, "connection": {"type": "string"}, "connector": {"type": "string"},
        "vendorEventId": {"type": "string"}, "type": {"type": "string"}, "status": {"type": "string"},
        "customerExternalId": NULLABLE_STRING, "occurredAt": TIME, "receivedAt": TIME, "enqueuedAt": TIME,
        "processedAt": TIME, "normalised": {"type": ["array", "null"]}, "error": NULLABLE_OBJECT,
    }),
    "Run": obj({
        "id": {"type": "integer"}, "status": {"type": "string"}, "errorClass": NULLABLE_STRING,
        "message": NULLABLE_STRING, "attempts": {"type": "integer"}, "connection": NULLABLE_STRING,
        "recipe": NULLABLE_OBJECT, "eventId": NULLABLE_INTEGER, "customerId": NULLABLE_STRING,
        "customerExternalId": NULLABLE_STRING, "replayOf": NULLABLE_INTEGER, "startedAt": TIME,
        "finishedAt": TIME, "durationMs": {"type": ["integer", "number", "null"]}, "nextAttemptAt": TIME,
        "links": OBJECT,
    }),
    "ReplayJob": obj({
        "id": {"type": "integer"}, "status": {"type": "string"}, "filter": OBJECT,
        "version": {"type": "string"},
        "ratePerSecond": {"type": "number"}, "total": {"type": "integer"}, "processed": {"type": "integer"},
        "succeeded": {"type": "integer"}, "failed": {"type": "integer"},
        "cancelRequested": {"type": "boolean"},
        "requestedBy": NULLABLE_STRING, "createdAt": TIME, "startedAt": TIME, "finishedAt": TIME,
    }),
    "Replay": OBJECT,
    "RecipeList": obj({"folder": {"type": "string"}, "refused": {"type": "boolean"},
                       "problems": {"type": "array"}, "recipes": {"type": "array", "items": OBJECT}}),
    "Recipe": obj({"name": {"type": "string"}, "current": NULLABLE_OBJECT, "yaml": {"type": "string"},
                   "validation": OBJECT, "versions": {"type": "array", "items": OBJECT}}),
    "DryRun": obj({"recipe": {"type": "string"}, "version": NULLABLE_INTEGER, "dryRun": {"const": True},
                   "results": {"type": "array", "items": OBJECT}}),
    "Import": obj({
        "id": {"type": "integer"}, "status": {"type": "string"}, "filename": NULLABLE_STRING,
        "progress": OBJECT, "counts": OBJECT, "createdAt": TIME, "errorsUrl": NULLABLE_STRING,
    }),
    "Key": obj({"id": {"type": "string"}, "name": {"type": "string"}, "prefix": {"type": "string"},
                "role": {"type": "string"}, "userId": NULLABLE_STRING, "createdAt": TIME, "revokedAt": TIME}),
    "NewKey": obj({"id": {"type": "string"}, "name": {"type": "string"}, "prefix": {"type": "string"},
                   "role": {"type": "string"}, "key": {"type": "string"}}),
    "Connections": obj({
        "connections": {"type": "array", "items": obj({
            "name": {"type": "string"}, "connector": NULLABLE_STRING, "state": {"enum": ["ok", "invalid"]},
            "problems": {"type": "array", "items": {"type": "string"}}, "config": NULLABLE_OBJECT})},
        "problems": {"type": "array", "items": {"type": "string"}},
    }),
}
