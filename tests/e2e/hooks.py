"""A real local HTTP server that records what effects send it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HookServer:
    status: int = 200
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> HookServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.method, request.path, dict(request.headers),
                                      await request.read()))
        return web.Response(status=self.status)

    def to(self, path_prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(path_prefix)]

    async def wait_for(self, path_prefix: str, count: int = 1,
                       timeout: float = 60) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(path_prefix)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{count} request(s) to {path_prefix} never came: "
                                     f"{[r.path for r in self.received]}")
            await asyncio.sleep(0.1)
        return self.to(path_prefix)
