"""All models, imported here so Alembic and create_all see the whole metadata."""

from hub.db.models.base import Base
from hub.db.models.customers import (
    AssignmentHistory,
    Customer,
    CustomerAccountManager,
    FieldAssignment,
    User,
    Workflow,
)
from hub.db.models.inbox import InboxEvent, SecurityEvent, WebhookDelivery
from hub.db.models.keys import ApiKey

__all__ = [
    "ApiKey",
    "AssignmentHistory",
    "Base",
    "Customer",
    "CustomerAccountManager",
    "FieldAssignment",
    "InboxEvent",
    "SecurityEvent",
    "User",
    "WebhookDelivery",
    "Workflow",
]
