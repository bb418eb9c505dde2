"""External actions LINK / FORM and COMMENT information (seed 000): what an operator or a
connector defines on an order (or for every order, as a template), what a named user executes,
and the comments connectors answer with."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from .base import Message, WireModel
from .templates import TemplateError, check

LOCALE_PATTERN = r"^[a-z]{2}_[A-Z]{2}$"
FALLBACK_LOCALE = "en_US"
Localized = Annotated[
    dict[Annotated[str, Field(pattern=LOCALE_PATTERN)], Annotated[str, Field(min_length=1,
                                                                              max_length=1000)]],
    Field(min_length=1, description='Text per locale, e.g. {"en_US": "Refund", "de_DE": ...}')]
InputId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
ActionType = Literal["LINK", "FORM", "COMMENT"]


def localized(text: dict[str, str], locale: str) -> str:
    """The text in ``locale``, else in en_US, else in any locale it has."""
    return text.get(locale) or text.get(FALLBACK_LOCALE) or next(iter(text.values()), "")


def _element_rules(schema: dict[str, Any]) -> None:
    # The rules of ``_complete`` below, stated in the schema too.
    schema["oneOf"] = [
        {"required": ["kind", "text"], "properties": {
            "kind": {"enum": ["headline", "subheadline", "text"]}, "text": {"type": "object"}}},
        {"required": ["kind", "id", "inputType", "label"], "properties": {
            "kind": {"const": "input"}, "id": {"type": "string"},
            "inputType": {"type": "string"}, "label": {"type": "object"}}}]


class FormElement(WireModel):
    """A FORM element: a headline, subheadline or text (with a style), or an input with an
    ``id``, a type, a mandatory flag and bounds (the length of a string, the value of a
    number)."""

    model_config = ConfigDict(json_schema_extra=_element_rules)

    kind: Literal["headline", "subheadline", "text", "input"]
    text: Localized | None = None
    style: Literal["normal", "info", "warning", "error"] = "normal"
    id: InputId | None = None
    input_type: Literal["string", "integer", "float"] | None = None
    mandatory: bool = Field(default=False, strict=True)
    min: float | None = Field(default=None, strict=True)
    max: float | None = Field(default=None, strict=True)
    label: Localized | None = None

    @model_validator(mode="after")
    def _complete(self) -> FormElement:
        if self.kind == "input":
            if self.id is None or self.input_type is None or self.label is None:
                raise ValueError("an input needs id, inputType and label")
        elif self.text is None:
            raise ValueError(f"a {self.kind} needs text")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min: greater than max")
        return self


def _type_rules(schema: dict[str, Any]) -> None:
    schema["allOf"] = [
        {"if": {"properties": {"type": {"const": "LINK"}}},
         "then": {"required": ["url"], "properties": {"url": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "FORM"}}},
         "then": {"required": ["elements"], "properties": {"elements": {"minItems": 1}}}}]


class ExternalActionSpec(WireModel):
    """What a user sends to define an external action: a LINK (a URL template with order
    variables), a FORM (elements, confirm and cancel labels) or a COMMENT channel."""

    model_config = ConfigDict(json_schema_extra=_type_rules)

    type: ActionType
    name: Localized
    groups: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20)
    url: str | None = Field(default=None, min_length=1, max_length=4000,
                            description="LINK: a template, e.g. https://pay.example/{id_order}")
    elements: list[FormElement] = Field(default_factory=list, max_length=100)
    confirm_label: Localized | None = None
    cancel_label: Localized | None = None

    @model_validator(mode="after")
    def _by_type(self) -> ExternalActionSpec:
        if self.type == "LINK" and self.url is None:
            raise ValueError("url: a LINK needs a url")
        if self.url is not None:
            try:
                check(self.url)
            except TemplateError as exc:
                raise ValueError(f"url: {exc}") from exc
        if self.type == "FORM" and not self.elements:
            raise ValueError("elements: a FORM needs elements")
        ids = [e.id for e in self.elements if e.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("elements: input ids must be unique")
        return self


class ExternalActionUpdate(ExternalActionSpec):
    """A replacement, quoting the version it replaces (a stale one answers 409)."""

    version: int = Field(ge=1, strict=True)


class ExternalActionDefinition(Message):
    """An external action defined on one order, at one version (``deleted`` when removed)."""

    TYPE: ClassVar[str] = "external_action.definition"

    action_id: str
    external_order_id: str
    action_type: ActionType
    name: dict[str, str] = Field(description='Localized, e.g. {"en_US": "Refund"}')
    groups: list[str] = Field(default_factory=list)
    action_version: int = Field(default=1, description="The action's version (``version`` is "
                                "the message format's)")
    url: str | None = None
    elements: list[FormElement] = Field(default_factory=list)
    confirm_label: dict[str, str] | None = None
    cancel_label: dict[str, str] | None = None
    deleted: bool = False


class ExternalUser(WireModel):
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)


class ExecutionRequest(WireModel):
    """``POST .../external-actions/{id}/execute``: who executes it, and a FORM's inputs."""

    user: ExternalUser
    inputs: dict[str, JsonValue] = Field(default_factory=dict)


class ExternalActionExecution(Message):
    """A LINK opened or FORM confirmed by a user, or an external-action effect of a trigger."""

    TYPE: ClassVar[str] = "external_action.execution"

    external_order_id: str
    action_id: str
    action_type: Literal["LINK", "FORM", "EFFECT"]
    action_name: str | None = Field(default=None, description="In en_US (or its first locale)")
    user: ExternalUser | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    url: str | None = Field(default=None, description="A LINK's URL as rendered")
    request_id: str | None = Field(default=None, description="Action request, for effects")


class Comment(Message):
    """COMMENT information from a connector, on the order or related to one external action."""

    TYPE: ClassVar[str] = "external_action.comment"

    external_order_id: str
    text: str = Field(min_length=1, max_length=20_000)
    author: str | None = Field(default=None, max_length=200)
    related_action_id: str | None = None


class CommentSpec(WireModel):
    """``POST /api/v1/orders/{id}/comments``."""

    text: str = Field(min_length=1, max_length=20_000)
    author: str | None = Field(default=None, max_length=200)
    related_action_id: str | None = Field(default=None, min_length=1)
