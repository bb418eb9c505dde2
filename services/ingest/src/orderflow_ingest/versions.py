"""versionTag and change detection: pure functions over order documents."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from orderflow_schemas import FieldChange


def canonical(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def version_tag(document: dict[str, Any]) -> str:
    """A tag that changes with every change of content (like seed 002's
    ``IXUA3ril8XnZJKUMSfP7dg==``); an identical resend has the same tag."""
    return tag_of(canonical(document))


def tag_of(canonical_document: bytes) -> str:
    """``version_tag`` of a document already made canonical."""
    return base64.b64encode(hashlib.blake2b(canonical_document, digest_size=16).digest()).decode()


def changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[FieldChange]:
    """Fields that differ, as dotted paths; nested objects are compared field by field, lists
    (items) as a whole."""
    out: list[FieldChange] = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(changes(a, b, f"{path}."))
        else:
            out.append(FieldChange(field=path, from_=a, to=b))
    return out
