"""Effects a trigger performs (seeds 001, 003, 000) and the messages of their execution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from . import templates
from .base import JsonInt, Message, WireModel
from .external_actions import ExternalActionSpec

# A template checked when a trigger is saved: only variables the executor can fill (422 else).
Template = Annotated[str, AfterValidator(templates.check)]
# A status code as a JSON number: "200" is not taken for 200, as the schema says.
StatusCode = Annotated[int, Field(strict=True, ge=100, le=599), JsonInt]


def _type_required(schema: dict[str, Any]) -> None:
    """``type`` picks the effect (a discriminated union): required, as the API treats it."""
    schema["required"] = sorted({*schema.get("required", []), "type"})


class EffectModel(WireModel):
    model_config = ConfigDict(json_schema_extra=_type_required)


class HttpEffect(EffectModel):
    """Call a URL (seed 003). ``url``, ``body`` and header values are templates over the order:
    ``{id_order}``, ``{id_job}`` and ``{order.<field>}``."""

    type: Literal["http"] = "http"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: Template = Field(min_length=1)
    headers: dict[str, Template] = Field(default_factory=dict)
    body: Template | None = Field(
        default=None, description="Template; values are escaped for JSON when the Content-Type "
        "is JSON (the default); the order JSON when omitted")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, strict=True)
    expected_status: list[StatusCode] = Field(default_factory=lambda: [200], min_length=1)


class SmsEffect(EffectModel):
    type: Literal["sms"] = "sms"
    text: Template = Field(min_length=1)


class EmailEffect(EffectModel):
    type: Literal["email"] = "email"
    subject: Template = Field(min_length=1)
    body: Template = Field(min_length=1)


class InternalEffect(EffectModel):
    """Create a task, notify a manager, or change order or customer data (seed 001)."""

    type: Literal["internal"] = "internal"
    kind: Literal["task", "notify_manager", "change_order", "change_customer"]
    params: dict[str, Any] = Field(default_factory=dict)


class ExternalActionEffect(EffectModel):
    """Fire an external action (``action``: an action of the order, a template or a name a
    connector knows), published to ``orderflow.external-actions`` once; or create one on the
    order (``define``: the body ``POST .../external-actions`` takes), once."""

    type: Literal["external_action"] = "external_action"
    action: str | None = Field(default=None, min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    define: ExternalActionSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> ExternalActionEffect:
        if (self.action is None) == (self.define is None):
            raise ValueError("action: give either action (fire one) or define (create one)")
        return self


Effect = Annotated[
    HttpEffect | SmsEffect | EmailEffect | InternalEffect | ExternalActionEffect,
    Field(discriminator="type"),
]


class ActionRequest(Message):
    """The trigger-engine asks the action-executor to perform one effect, once.

    ``id`` is derived from (trigger, event, step, effect index), so a repeated firing asks for the
    same request and the executor's tracking row makes it happen once."""

    TYPE: ClassVar[str] = "action.request"

    external_order_id: str
    trigger_id: str
    trigger_name: str
    firing_id: str
    event_id: str
    step: int = 0
    effect_index: int = 0
    effect: Effect
    order: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None


class ActionOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # this attempt failed; another follows
    SKIPPED = "skipped"  # not performed on purpose (e.g. invalid contact), with the reason
    DEAD = "dead"  # retries exhausted or not retryable; dead-lettered


class ActionResult(Message):
    """One attempt of an action request and its outcome."""

    TYPE: ClassVar[str] = "action.result"

    request_id: str
    external_order_id: str
    trigger_id: str
    effect_type: str
    attempt: int = Field(ge=1)
    outcome: ActionOutcome
    detail: str = ""
    http_status: int | None = None
    duration_ms: float | None = None
    endpoint_id: str | None = Field(default=None, description="The endpoint of a call URL")
    next_attempt_at: datetime | None = Field(
        default=None, description="When the next attempt is due, for a failed one")
