"""Effect templates: ``{id_order}``, ``{id_job}`` and ``{order.<field>}`` (dotted paths into
the order), rendered with the standard library's ``string.Formatter``; a missing field renders
empty rather than failing the effect."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote


class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        value: Any = kwargs
        for part in field_name.split("."):
            if isinstance(value, Mapping):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = None
        return ("" if value is None else value), field_name


class _UrlFormatter(_Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return quote(super().format_field(value, format_spec), safe="")


_formatter, _url_formatter = _Formatter(), _UrlFormatter()


def render(template: str, context: Mapping[str, Any]) -> str:
    return _formatter.vformat(template, (), context)


def render_url(template: str, context: Mapping[str, Any]) -> str:
    """Like ``render``, with every substituted value percent-encoded."""
    return _url_formatter.vformat(template, (), context)


def context_for(order_id: str, job_id: str, order: Mapping[str, Any]) -> dict[str, Any]:
    return {"id_order": order_id, "id_job": job_id, "order": order}
