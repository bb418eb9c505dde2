"""The topic registry: every topic orderflow uses, with its key, partitions, cleanup policy and
value model. Services create and address topics only through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from .dead_letters import DeadLetter
from .effects import ActionRequest, ActionResult
from .external_actions import Comment, ExternalActionDefinition, ExternalActionExecution
from .orders import OrderAction, OrderChanges, OrderDocument, OrderEvent
from .triggers import TriggerEvaluation, TriggerFiring


@dataclass(frozen=True)
class Topic:
    name: str
    value_model: type[BaseModel]
    key: str
    description: str
    direction: Literal["inbound", "outbound", "internal"]
    partitions: int = 6
    cleanup_policy: Literal["delete", "compact"] = "delete"

    def qualified(self, prefix: str = "") -> str:
        """The name on the broker; tests give each run a prefix of its own."""
        return f"{prefix}{self.name}"


ORDERS_INBOUND = Topic(
    "orderflow.orders.inbound", OrderDocument, "externalOrderId",
    "One order document per message from upstream systems; validated like the HTTP API.",
    "inbound",
)
ORDER_CHANGES = Topic(
    "orderflow.orders.changes", OrderChanges, "externalOrderId",
    "Changes to an order made inside orderflow (internal effects), merged by ingest onto the "
    "order as it stands then, validated and versioned like any change.",
    "internal",
)
ORDER_EVENTS = Topic(
    "orderflow.order-events", OrderEvent, "externalOrderId",
    "One event per accepted order change, named order<STATUS> or orderUPDATED.",
    "outbound",
)
ORDER_ACTIONS = Topic(
    "orderflow.order-actions", OrderAction, "externalOrderId",
    "Accepted order actions (ConfirmOrder, ShipOrder, custom ...).",
    "outbound",
)
TRIGGER_FIRINGS = Topic(
    "orderflow.trigger-firings", TriggerFiring, "externalOrderId",
    "Each trigger that fired (or was scheduled) on an event, with the conditions that held.",
    "internal",
)
TRIGGER_EVALUATIONS = Topic(
    "orderflow.trigger-evaluations", TriggerEvaluation, "externalOrderId",
    "One per event that triggers listened to: each trigger evaluated, its outcome and, when it "
    "did not fire, the condition that failed and the value it saw.",
    "internal",
)
ACTION_REQUESTS = Topic(
    "orderflow.action-requests", ActionRequest, "externalOrderId",
    "Effects the trigger-engine asks the action-executor to perform, once each.",
    "internal",
)
ACTION_RESULTS = Topic(
    "orderflow.action-results", ActionResult, "externalOrderId",
    "Every attempt of an effect and its outcome.",
    "internal",
)
EXTERNAL_ACTION_DEFINITIONS = Topic(
    "orderflow.external-actions.definitions", ExternalActionDefinition, "externalOrderId",
    "External actions (LINK/FORM) defined per order.",
    "internal",
    cleanup_policy="compact",
)
EXTERNAL_ACTIONS = Topic(
    "orderflow.external-actions", ExternalActionExecution, "externalOrderId",
    "Executed FORM/LINK actions and external-action effects, with user and inputs.",
    "outbound",
)
COMMENTS = Topic(
    "orderflow.external-actions.comments", Comment, "externalOrderId",
    "COMMENT information from connectors, optionally related to an external action of the "
    "same order; the action-executor checks the relation.",
    "inbound",
)
COMMENTS_ACCEPTED = Topic(
    "orderflow.comments", Comment, "externalOrderId",
    "COMMENT information the action-executor accepted (from the topic or over HTTP), for the "
    "timeline.",
    "internal",
)
DLQ = Topic(
    "orderflow.dlq", DeadLetter, "source key",
    "Every message that could not be processed, with the reason and the original bytes.",
    "outbound",
)

ALL_TOPICS: tuple[Topic, ...] = (
    ORDERS_INBOUND,
    ORDER_CHANGES,
    ORDER_EVENTS,
    ORDER_ACTIONS,
    TRIGGER_FIRINGS,
    ACTION_REQUESTS,
    ACTION_RESULTS,
    EXTERNAL_ACTION_DEFINITIONS,
    EXTERNAL_ACTIONS,
    COMMENTS,
    COMMENTS_ACCEPTED,
    DLQ,
    TRIGGER_EVALUATIONS,
)

BY_NAME: dict[str, Topic] = {t.name: t for t in ALL_TOPICS}
