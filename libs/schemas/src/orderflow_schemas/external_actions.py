"""External actions LINK / FORM and COMMENT information (seed 000)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from .base import Message, WireModel


class FormElement(WireModel):
    kind: Literal["headline", "subheadline", "text", "input"]
    name: str | None = None
    label: dict[str, str] = Field(default_factory=dict)
    input_type: Literal["string", "integer", "float"] | None = None
    mandatory: bool = False
    min: float | None = None
    max: float | None = None


class ExternalActionDefinition(Message):
    """An external action defined on one order (process), versioned for optimistic updates."""

    TYPE: ClassVar[str] = "external_action.definition"

    action_id: str
    external_order_id: str
    action_type: Literal["LINK", "FORM"]
    name: dict[str, str] = Field(description='Localized, e.g. {"en_US": "Refund"}')
    groups: list[str] = Field(default_factory=list)
    revision: int = 1
    url: str | None = None
    elements: list[FormElement] = Field(default_factory=list)
    confirm_label: dict[str, str] = Field(default_factory=dict)
    cancel_label: dict[str, str] = Field(default_factory=dict)


class ExternalUser(WireModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class ExternalActionExecution(Message):
    """A LINK opened or FORM confirmed by a user, or an external-action effect of a trigger."""

    TYPE: ClassVar[str] = "external_action.execution"

    external_order_id: str
    action_id: str
    action_type: Literal["LINK", "FORM", "EFFECT"]
    user: ExternalUser | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = Field(default=None, description="Action request, for effects")


class Comment(Message):
    """COMMENT information from a connector, on the order or related to one external action."""

    TYPE: ClassVar[str] = "external_action.comment"

    external_order_id: str
    text: str = Field(min_length=1)
    author: str | None = None
    related_action_id: str | None = None
