"""Where effects may call: public addresses, plus hosts an operator allowed explicitly.

Loopback, private, link-local (which holds cloud metadata at 169.254.169.254), reserved and
multicast addresses are refused unless the host or host:port is in ``ORDERFLOW_ALLOWED_HOSTS``.
The check resolves the name, so a public name that points inside is refused too; and the HTTP
client resolves through ``GuardedResolver``, which drops internal addresses again at connection
time, so a name whose answer changes between the check and the connection (DNS rebinding) does
not get inside either. With
``allow_list_only`` (``ORDERFLOW_EGRESS=allow-list-only``) every host not listed is refused,
public ones too: a locked-down deployment, and every test run, whose fuzzed triggers may name
any address."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class EgressRefused(Exception):
    """The URL may not be called; not retryable."""


def parse_allowed(raw: str) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def _listed(host: str, port: int, allowed: frozenset[str]) -> bool:
    """The operator allowed this host, or this host:port (``ORDERFLOW_ALLOWED_HOSTS``)."""
    host = host.lower()
    return host in allowed or f"{host}:{port}" in allowed


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


async def check_url(url: str, allowed: frozenset[str], allow_list_only: bool = False) -> None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # a port that is not a number or out of range
        raise EgressRefused(f"{url!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused(f"only absolute http(s) URLs may be called, not {url!r}")
    host = parts.hostname.lower()
    if _listed(host, port, allowed):
        return
    if allow_list_only:
        raise EgressRefused(
            f"{host} is not in ORDERFLOW_ALLOWED_HOSTS, and ORDERFLOW_EGRESS=allow-list-only "
            "refuses every other host")
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


class GuardedResolver(AbstractResolver):
    """The HTTP client's resolver: the addresses it connects to are the ones checked. Those of
    a host not in ``allowed`` are kept only when public; none left is a connection error (the
    attempt fails and is retried; ``check_url`` refuses the next one for good if the name still
    points inside)."""

    def __init__(self, allowed: frozenset[str], inner: AbstractResolver | None = None) -> None:
        self.allowed = allowed
        self._inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if _listed(host, port, self.allowed):
            return results
        public = [r for r in results if not _internal(ipaddress.ip_address(r["host"]))]
        if not public:
            raise OSError(errno.EACCES, f"{host} resolves only to internal addresses "
                          f"({', '.join(r['host'] for r in results)}); list it in "
                          "ORDERFLOW_ALLOWED_HOSTS to allow it")
        return public

    async def close(self) -> None:
        await self._inner.close()

