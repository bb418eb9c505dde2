"""Input that would otherwise reach PostgreSQL or the JSON parser and fail there with a 500,
refused at the edge with the service's validation status and the field at fault:

- JSON bodies nested deeper than ``max_depth`` (Python's parser raises RecursionError near 1000
  levels, orjson cannot dump beyond 254, and no orderflow document needs more than a few);
- lone UTF-16 surrogates (``"\\ud800"`` is valid JSON, PostgreSQL cannot store it) and NUL
  characters (``"\\u0000"``, nor that) in any string or key of a JSON body;
- integers beyond 64 bits (valid JSON; orjson, which stores documents, cannot write them);
- a JSON body that is not UTF-8;
- a NUL character (``%00``) in the URL path or query.

Refused, not stripped: removing characters silently would store something other than what the
client sent (a template, an address), and the client could not tell.

Only bodies of operations whose OpenAPI document has a request body are checked, except those
marked ``RAW_BODY`` (``openapi_extra``): a route that validates its raw bytes with pydantic
(ingest's bulk intake, the hot path) is left alone, as pydantic's JSON parser refuses lone
surrogates and deep nesting with a validation error of its own. The body
size limit (413) is FastAPI's own (``FastAPI(max_body_size=...)``), outside this middleware."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The OpenAPI extension a route that checks its own raw body carries (``openapi_extra``).
RAW_BODY_EXTENSION = "x-orderflow-raw-body"
RAW_BODY: dict[str, Any] = {RAW_BODY_EXTENSION: True}


def problem_in(value: Any, max_depth: int) -> tuple[str, str, str] | None:
    """The first (field, message, type) that makes a parsed JSON value unstorable, or None."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(value, (), 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return (_field(path), f"JSON nested deeper than {max_depth} levels",
                        "json_too_deep")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and (bad := _bad_text(key)):
                    return _field(path + (key,)), f"key {bad}", "text_invalid"
                stack.append((child, path + (str(key),), depth + 1))
        elif isinstance(item, str) and (bad := _bad_text(item)):
            return _field(path), f"text {bad}", "text_invalid"
        elif isinstance(item, int) and not _INT_MIN <= item <= _INT_MAX:
            return _field(path), "integer beyond 64 bits", "int_too_large"
    return None


# What a JSON document stored by orderflow can hold (orjson, which stores them, stops there).
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
# Twenty digits or more in a row: orjson reads such an integer as a float, FastAPI's parser as
# the int it is. Rare enough to read those bodies a second time, with the standard parser.
_HUGE = re.compile(r"\d{20}")


def _field(path: tuple[str, ...]) -> str:
    """Dotted, with what cannot be sent back (a lone surrogate in a key) as ``\\udxxx``."""
    text = ".".join(path) or "(body)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate"
    return None


def body_problem(body: bytes, max_depth: int) -> tuple[str, str, str] | None:
    """What is wrong with a JSON body that would pass FastAPI's parser and fail later; None when
    it is fine or when FastAPI's parser refuses it anyway (a 4xx of its own)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "(body)", "the body is not UTF-8", "json_invalid"
    try:
        value = orjson.loads(body)  # fast, and refuses lone surrogates and > 1024 levels
        if _HUGE.search(text):
            raise orjson.JSONDecodeError("", "", 0)  # see integers as FastAPI's parser will
    except orjson.JSONDecodeError:
        try:
            value = json.loads(text)
        except RecursionError:
            return "(body)", f"JSON nested deeper than {max_depth} levels", "json_too_deep"
        except ValueError:
            return None  # not JSON: FastAPI answers json_invalid
    return problem_in(value, max_depth)


def _implied(methods: frozenset[str]) -> frozenset[str]:
    """Methods Starlette answers without a route of their own: HEAD wherever GET is."""
    return frozenset({"HEAD"}) if "GET" in methods else frozenset()


def url_problem(scope: Scope) -> tuple[str, str, str] | None:
    """A NUL in the path or the query: no route could store or look it up."""
    if b"%00" in scope.get("raw_path", b"") or "\x00" in scope.get("path", ""):
        return "(path)", "the path contains a NUL character", "text_invalid"
    if b"%00" in scope.get("query_string", b""):
        return "(query)", "the query contains a NUL character", "text_invalid"
    return None


class BodyGuard:
    """ASGI middleware: refuses what ``url_problem`` and ``body_problem`` find, with the app's
    ``state.validation_status`` and the usual ``{"detail", "errors"}`` answer."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth
        self._checked: list[tuple[str, re.Pattern[str]]] | None = None
        self._methods: list[tuple[re.Pattern[str], frozenset[str], int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope)
        self._load(scope)
        allowed = self._allowed(scope["path"])
        if allowed and scope["method"] not in allowed | _implied(allowed):
            # Answered here: FastAPI's 405 names the methods of one route of the path only.
            answer = JSONResponse({"detail": "Method Not Allowed"}, status_code=405,
                                  headers={"Allow": ", ".join(sorted(allowed))})
            await answer(scope, receive, send)
            return
        if problem is None and scope["method"] in _BODY_METHODS and self._parses_json(scope):
            body = await _read(receive)
            problem = body_problem(body, self.max_depth) if body else None
            receive = _replay(body, receive)
        if problem is None:
            await self.app(scope, receive, send)
            return
        field, message, kind = problem
        answer = JSONResponse(
            {"detail": "request is not valid",
             "errors": [{"field": field, "message": message, "type": kind}]},
            status_code=scope["app"].state.validation_status)
        await answer(scope, receive, send)


    def _load(self, scope: Scope) -> None:
        """Read the app's OpenAPI document at the first request (every route is there by then):
        the methods of each path, and the operations whose JSON body FastAPI parses."""
        if self._checked is not None:
            return
        self._checked = []
        for path, operations in scope["app"].openapi().get("paths", {}).items():
            pattern = re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
            methods = {m.upper() for m in operations}
            literal = sum(1 for part in path.split("/") if part and "{" not in part)
            self._methods.append((pattern, frozenset(methods), literal))
            self._checked += [(m.upper(), pattern) for m, op in operations.items()
                              if "requestBody" in op and not op.get(RAW_BODY_EXTENSION)]

    def _allowed(self, path: str) -> frozenset[str]:
        """The methods the document lists for ``path`` (none when no path matches)."""
        # The paths that name the most of it literally: ``.../external-actions/menu`` is the
        # menu's path alone, not also ``.../external-actions/{action_id}``.
        found: set[str] = set()
        best = -1
        for pattern, methods, literal in self._methods:
            if not pattern.match(path) or literal < best:
                continue
            if literal > best:
                found, best = set(), literal
            found |= methods
        return frozenset(found)

    def _parses_json(self, scope: Scope) -> bool:
        """Whether the operation ``scope`` asks for has a request body FastAPI parses."""
        method, path = scope["method"], scope["path"]
        return any(m == method and pattern.match(path) for m, pattern in self._checked or ())


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body read already, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
