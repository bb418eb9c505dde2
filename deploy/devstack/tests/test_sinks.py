"""The SMTP and SMS sinks that `make run` starts: what they receive is in their log."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
from orderflow_devstack import net, procs


async def test_the_sinks_log_every_email_and_sms(tmp_path: Path) -> None:
    smtp, sms, log = net.free_port(), net.free_port(), tmp_path / "sinks.log"
    proc = procs.spawn([sys.executable, "-m", "orderflow_devstack.sinks", "--smtp-port",
                        str(smtp), "--sms-port", str(sms)], {}, log)
    try:
        deadline = time.monotonic() + 20
        while '"ready"' not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
        message.set_content("Your order shipped.")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=smtp)
        async with aiohttp.ClientSession() as http:
            answer = await http.post(f"http://127.0.0.1:{sms}/sms",
                                     json={"to": "+491701234567", "text": "Shipped"})
            assert answer.status == 202
        await asyncio.sleep(0.3)
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        mail = next(x for x in lines if x["sink"] == "email")
        assert mail["to"] == ["b@example.com"] and mail["subject"] == "Hi"
        assert "Your order shipped." in mail["body"]
        assert next(x for x in lines if x["sink"] == "sms")["text"] == "Shipped"
    finally:
        procs.stop(proc, timeout=5)
