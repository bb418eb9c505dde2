"""Derived message ids: ``str(uuid.uuid5(namespace, name))``, computed without building UUID
objects. A repeated decision derives the same id, so downstream recognises the repeat; the
trigger-engine derives several per decision, and ``uuid.uuid5`` was a tenth of its scheduler's
time (py-spy, bench/runs_bench.py)."""

from __future__ import annotations

import hashlib
import uuid


def derived(namespace: uuid.UUID, name: str) -> str:
    """The same string as ``str(uuid.uuid5(namespace, name))``."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
