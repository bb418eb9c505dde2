"""Sign-in sessions. The API key stays on the server: the browser holds only a signed, random
session id in a cookie that is HttpOnly and SameSite=Strict, so neither the page's JavaScript
nor a URL ever sees the key. Every form that changes something carries the session's CSRF token
(checked on every POST), besides the SameSite cookie. Sessions live in this process's memory:
a restart signs everyone out (several console processes would need a shared store)."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "orderflow_session"


@dataclass
class Session:
    key: str
    user_id: str
    user_name: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    expires: float = 0.0

    @property
    def user(self) -> dict[str, str]:
        return {"id": self.user_id, "name": self.user_name}


class SignedOut(Exception):
    """No valid session: the page redirects to the sign-in."""


class BadCsrf(Exception):
    """A changing request without the session's token: refused (403)."""


class Sessions:
    def __init__(self, secret: str, hours: float) -> None:
        self.signer = URLSafeSerializer(secret or secrets.token_urlsafe(32), salt="session")
        self.lifetime = hours * 3600
        self._by_id: dict[str, Session] = {}

    def open(self, key: str, user_id: str, user_name: str) -> tuple[str, Session]:
        """A new session and the cookie value that names it."""
        sid = secrets.token_urlsafe(24)
        session = Session(key, user_id, user_name, expires=time.time() + self.lifetime)
        self._by_id[sid] = session
        return self.signer.dumps(sid), session

    def find(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            sid = self.signer.loads(raw)
        except BadSignature:
            return None
        session = self._by_id.get(sid)
        if session is None or session.expires < time.time():
            self._by_id.pop(sid, None)
            return None
        return session

    def close(self, request: Request) -> None:
        raw = request.cookies.get(COOKIE)
        if raw:
            with contextlib.suppress(BadSignature):
                self._by_id.pop(self.signer.loads(raw), None)


def current(request: Request) -> Session:
    """The signed-in session (a FastAPI dependency); ``SignedOut`` otherwise."""
    session = request.app.state.sessions.find(request)
    if session is None:
        raise SignedOut()
    request.state.session = session
    return session  # type: ignore[no-any-return]


SignedIn = Annotated[Session, Depends(current)]


def check_csrf(session: Session, token: str | None) -> None:
    if not token or not secrets.compare_digest(token, session.csrf):
        raise BadCsrf()
