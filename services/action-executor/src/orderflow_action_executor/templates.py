"""Effect templates as the executor renders them; the syntax and escaping rules are
``orderflow_schemas.templates`` (shared with the effect models, which check a template when a
trigger is saved). A missing variable raises ``TemplateError`` (a ``ValueError``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderflow_schemas.templates import TemplateError
from orderflow_schemas.templates import render as _render

__all__ = ["TemplateError", "context_for", "render", "render_header", "render_json",
           "render_url"]

_CONTACT = ("externalCustomerId", "email", "phone", "firstName", "lastName")


def render(template: str, context: Mapping[str, Any]) -> str:
    return _render(template, context, "text")


def render_url(template: str, context: Mapping[str, Any]) -> str:
    """Every substituted value percent-encoded."""
    return _render(template, context, "url")


def render_json(template: str, context: Mapping[str, Any]) -> str:
    """Values escaped for a JSON string, or written as JSON outside one."""
    return _render(template, context, "json")


def render_header(template: str, context: Mapping[str, Any]) -> str:
    return _render(template, context, "header")


def context_for(order_id: str, job_id: str, order: Mapping[str, Any],
                customer_id: str | None = None) -> dict[str, Any]:
    """``{id_order}``, ``{id_job}`` (the trigger, seed 003), the order, and the customer: its
    orderflow id and the contact fields of the order."""
    customer = {k: order[k] for k in _CONTACT if order.get(k) is not None}
    if customer_id:
        customer["id"] = customer_id
    return {"id_order": order_id, "id_job": job_id, "order": order, "customer": customer}
