"""What `make run` gives effects to talk to, so that a newcomer sees what was sent: an SMTP
server that keeps every e-mail (``aiosmtpd``) and an SMS gateway that keeps every SMS. Each
message is printed as one JSON line to this process's output, which the runner writes to
``.run/logs/sinks.log``.

    python -m orderflow_devstack.sinks [--smtp-port 1025] [--sms-port 8090]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
from email import policy
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

SMTP_PORT = 1025
SMS_PORT = 8090
SMS_PATH = "/sms"


def _say(kind: str, **fields: Any) -> None:
    print(json.dumps({"sink": kind, **fields}, ensure_ascii=False), flush=True)


class _Mail:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        _say("email", to=envelope.rcpt_tos, subject=str(message["Subject"]),
             messageId=str(message["Message-ID"]), body=body.get_content() if body else "")
        return "250 OK"


async def _sms(request: web.Request) -> web.Response:
    _say("sms", **(await request.json()))
    return web.json_response({"status": "queued"}, status=202)


async def serve(smtp_port: int, sms_port: int) -> None:
    mail = Controller(_Mail(), hostname="127.0.0.1", port=smtp_port)
    mail.start()
    app = web.Application()
    app.router.add_post(SMS_PATH, _sms)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", sms_port).start()
    _say("ready", smtp=f"127.0.0.1:{smtp_port}", sms=f"http://127.0.0.1:{sms_port}{SMS_PATH}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        mail.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="local SMTP and SMS sinks for make run")
    parser.add_argument("--smtp-port", type=int, default=SMTP_PORT)
    parser.add_argument("--sms-port", type=int, default=SMS_PORT)
    args = parser.parse_args()
    asyncio.run(serve(args.smtp_port, args.sms_port))


if __name__ == "__main__":
    main()
