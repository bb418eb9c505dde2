"""orderflow_schemas: the one definition of every orderflow message and topic."""

from .base import Message, WireModel
from .codec import DecodeError, decode
from .dead_letters import DeadLetter
from .effects import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    Effect,
    EmailEffect,
    ExternalActionEffect,
    HttpEffect,
    InternalEffect,
    SmsEffect,
)
from .external_actions import (
    Comment,
    ExternalActionDefinition,
    ExternalActionExecution,
    ExternalUser,
    FormElement,
)
from .orders import (
    MAX_ORDERS_PER_REQUEST,
    ORDER_UPDATED,
    FieldChange,
    OrderAction,
    OrderDocument,
    OrderEvent,
    OrderItem,
    OrderStatus,
    event_name,
)
from .topics import ALL_TOPICS, Topic
from .triggers import (
    Condition,
    FiringOutcome,
    Operator,
    Schedule,
    TriggerDefinition,
    TriggerEvaluation,
    TriggerFiring,
    TriggerSpec,
    TriggerVerdict,
)

__all__ = [
    "ALL_TOPICS",
    "MAX_ORDERS_PER_REQUEST",
    "ORDER_UPDATED",
    "ActionOutcome",
    "ActionRequest",
    "ActionResult",
    "Comment",
    "Condition",
    "DeadLetter",
    "DecodeError",
    "Effect",
    "EmailEffect",
    "ExternalActionDefinition",
    "ExternalActionEffect",
    "ExternalActionExecution",
    "ExternalUser",
    "FieldChange",
    "FiringOutcome",
    "FormElement",
    "HttpEffect",
    "InternalEffect",
    "Message",
    "Operator",
    "OrderAction",
    "OrderDocument",
    "OrderEvent",
    "OrderItem",
    "OrderStatus",
    "Schedule",
    "SmsEffect",
    "Topic",
    "TriggerDefinition",
    "TriggerEvaluation",
    "TriggerFiring",
    "TriggerSpec",
    "TriggerVerdict",
    "WireModel",
    "decode",
    "event_name",
]
