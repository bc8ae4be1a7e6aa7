"""The API's resource modules, each with a blueprint ``bp`` and the ``api`` its routes are declared on.

Listed here, apart from the package, so the OpenAPI document (which describes them all, and
itself) and the blueprint that mounts them both read one list without importing each other.
"""

from __future__ import annotations

from types import ModuleType

from hub.web.api import connections, customers, directory, events, imports, keys, recipes, runs


def resources() -> list[ModuleType]:
    return [customers, directory, events, runs, recipes, imports, connections, keys]
