"""Effect templates (seed 003): ``{id_order}``, ``{id_job}``, ``{order.<path>}`` and
``{customer.<path>}``, where a path goes through objects by name and lists by index
(``{order.items.0.name}``). Pure: used by the effect models to check a template when a trigger is
saved, and by the executor to render it.

Only ``{`` + a dotted name + ``}`` is a placeholder, so the braces of a JSON body
(``{"orderId": "{id_order}"}``) are literal text. Rendering is sandboxed: a path reads keys and
list items of the context's plain data, never attributes. A variable that is not there is an
error, not an empty string. Values are escaped for where they land:

- ``url``: percent-encoded;
- ``json``: inside a JSON string, escaped for it; outside one, written as JSON (a string gets its
  quotes, a number stays a number, an object is JSON), so ``{"total": {order.totalCost}}`` and
  ``{"name": "{order.firstName}"}`` both give valid JSON;
- ``text``: as they are (SMS, e-mail); ``header``: as they are, but a line break is refused."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import orjson

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
ROOTS = ("id_order", "id_job", "order", "customer")
Mode = Literal["text", "url", "json", "header"]


class TemplateError(ValueError):
    """A template names a variable that is unknown, or missing from what it is rendered with."""


def variables(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def check(template: str) -> str:
    """``template`` if every variable it names has a known root; else ``TemplateError``."""
    for name in variables(template):
        root = name.split(".", 1)[0]
        if root not in ROOTS or (root in ("order", "customer") and "." not in name):
            raise TemplateError(
                f"unknown variable {{{name}}}: use {{id_order}}, {{id_job}}, "
                "{order.<field>} or {customer.<field>}")
    return template


def lookup(context: Mapping[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise TemplateError(f"variable {{{name}}} is missing")
    if value is None:
        raise TemplateError(f"variable {{{name}}} is empty (null)")
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def render(template: str, context: Mapping[str, Any], mode: Mode = "text") -> str:
    out: list[str] = []
    at = 0
    for match in PLACEHOLDER.finditer(template):
        literal = template[at:match.start()]
        out.append(literal)
        value = lookup(context, match.group(1))
        if mode == "url":
            out.append(quote(_text(value), safe=""))
        elif mode == "json":
            inside = _in_json_string(template, match.start())
            encoded = orjson.dumps(value if not inside else _text(value)).decode()
            out.append(encoded[1:-1] if inside else encoded)
        elif mode == "header":
            text = _text(value)
            if "\r" in text or "\n" in text:
                raise TemplateError(f"variable {{{match.group(1)}}} holds a line break, which "
                                    "a header cannot carry")
            out.append(text)
        else:
            out.append(_text(value))
        at = match.end()
    out.append(template[at:])
    return "".join(out)


def _in_json_string(template: str, position: int) -> bool:
    """Whether ``position`` lies inside a JSON string: an odd number of unescaped quotes before
    it."""
    inside, escaped = False, False
    for char in template[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside
