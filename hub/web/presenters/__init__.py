"""How the API shows the hub's objects: camelCase, contract names (dunningPlanId), ISO 8601
times, links as URLs. One module per resource; services return rows and dataclasses, views and
CLI commands that print the API's shapes call these."""
