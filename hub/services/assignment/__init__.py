"""Assignment: the only writer of a customer's workflow, account managers and custom fields.

``model`` says what a write and its outcome are and decides one write; ``state`` holds a locked
customer's assignment state, judges writes against it and writes it back; ``service`` is the
AssignmentService every caller uses.
"""

from hub.services.assignment.model import (
    ACCOUNT_MANAGERS,
    CUSTOM_PREFIX,
    WORKFLOW,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
    is_assignable_field,
)
from hub.services.assignment.service import AssignmentService

__all__ = ["ACCOUNT_MANAGERS", "CUSTOM_PREFIX", "WORKFLOW", "AssignRequest", "AssignmentService", "Cause",
           "FieldOutcome", "FieldWrite", "is_assignable_field"]
