"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
``<webhook-id>.<webhook-timestamp>.<body>`` with the secret's bytes (base64 after ``whsec_``),
base64-encoded, prefixed ``v1,``; during a rotation one signature per live secret, separated by
spaces, so that a receiver holding either secret verifies the request. Pure: no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


class BadSecret(ValueError):
    """A secret that is not ``whsec_`` + base64 of 24 to 65 bytes."""


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise BadSecret("a secret starts with whsec_")
    try:
        raw = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError as exc:
        raise BadSecret("after whsec_ a secret is base64") from exc
    if not 24 <= len(raw) <= 65:
        raise BadSecret("a secret holds 24 to 65 bytes")
    return raw


def signature(webhook_id: str, timestamp: int, body: bytes, live: list[str]) -> str:
    """The ``webhook-signature`` header value for ``body`` under every live secret."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_bytes(s), content, hashlib.sha256).digest())
        .decode() for s in live)


def headers(webhook_id: str, timestamp: int, body: bytes, live: list[str]) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(webhook_id, timestamp, body, live)}
