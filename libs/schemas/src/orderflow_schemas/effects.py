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


# What change_customer may change: the customer's data an order carries.
CUSTOMER_FIELDS = frozenset({"externalCustomerId", "email", "phone", "firstName", "lastName"})
# What change_order may not: the identity of the order.
FIXED_FIELDS = frozenset({"externalOrderId"})
_INTERNAL_PARAMS: dict[str, tuple[set[str], set[str]]] = {  # kind: (required, optional)
    "task": ({"title"}, {"note", "assignee"}),
    "notify_manager": ({"subject", "text"}, {"to"}),
    "change_order": ({"changes"}, set()),
    "change_customer": ({"changes"}, set()),
}


def _internal_rules(schema: dict[str, Any]) -> None:
    # The rules of ``_params`` below, stated in the schema too (as far as a schema can).
    schema["allOf"] = [
        {"if": {"properties": {"kind": {"const": kind}}}, "then": {"properties": {"params": {
            "type": "object", "required": sorted(required), "additionalProperties": False,
            "properties": {name: ({"type": "object", "minProperties": 1}
                                  if name == "changes" else {"type": "string", "minLength": 1})
                           for name in required | optional}}}}}
        for kind, (required, optional) in _INTERNAL_PARAMS.items()]


class InternalEffect(EffectModel):
    """Seed 001's internal effects. ``task``: an open task on the order (``title``, ``note``:
    templates; ``assignee``). ``notify_manager``: an e-mail to the manager (``subject``,
    ``text``: templates; ``to``, else ``ORDERFLOW_MANAGER_EMAIL``) and a record.
    ``change_order`` / ``change_customer``: ``changes`` ({field: value}) sent back through
    ingest as a new version of the order (validated and versioned like any change; it can
    trigger in turn); change_customer only the customer's fields."""

    model_config = ConfigDict(json_schema_extra=_internal_rules)

    type: Literal["internal"] = "internal"
    kind: Literal["task", "notify_manager", "change_order", "change_customer"]
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _params(self) -> InternalEffect:
        required, optional = _INTERNAL_PARAMS[self.kind]
        given = set(self.params)
        if missing := sorted(required - given):
            raise ValueError(f"params: a {self.kind} needs {', '.join(missing)}")
        if unknown := sorted(given - required - optional):
            raise ValueError(f"params: a {self.kind} takes no {', '.join(unknown)}")
        for name in (required | optional) & given - {"changes"}:
            value = self.params[name]
            if not isinstance(value, str) or not value:
                raise ValueError(f"params.{name}: text, not empty")
            if name != "to":
                try:
                    templates.check(value)
                except templates.TemplateError as exc:
                    raise ValueError(f"params.{name}: {exc}") from exc
        if "changes" in given:
            changes = self.params["changes"]
            if not isinstance(changes, dict) or not changes:
                raise ValueError("params.changes: {field: value, ...}, at least one")
            if fixed := sorted(FIXED_FIELDS & set(changes)):
                raise ValueError(f"params.changes: {', '.join(fixed)} cannot be changed")
            if self.kind == "change_customer" and (other := sorted(set(changes) -
                                                                   CUSTOMER_FIELDS)):
                raise ValueError(f"params.changes: not customer data: {', '.join(other)} "
                                 f"(customer fields: {', '.join(sorted(CUSTOMER_FIELDS))})")
        return self


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
