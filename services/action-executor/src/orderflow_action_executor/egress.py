"""Where effects may call: public addresses, plus hosts an operator allowed explicitly.

Loopback, private, link-local (which holds cloud metadata at 169.254.169.254), reserved and
multicast addresses are refused unless the host or host:port is in ``ORDERFLOW_ALLOWED_HOSTS``.
The check resolves the name, so a public name that points inside is refused too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class EgressRefused(Exception):
    """The URL may not be called; not retryable."""


def parse_allowed(raw: str) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


async def check_url(url: str, allowed: frozenset[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused(f"only absolute http(s) URLs may be called, not {url!r}")
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if host in allowed or f"{host}:{port}" in allowed:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if _internal(ip):
            raise EgressRefused(
                f"{host} resolves to {ip}, an internal address; list it in "
                "ORDERFLOW_ALLOWED_HOSTS to allow it")
