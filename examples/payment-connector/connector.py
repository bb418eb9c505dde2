"""An example orderflow connector: payment adjustments.

It starts a fake payment API of its own, makes sure every order has a "Reduce payment" FORM (one
external-action template, defined once), consumes ``orderflow.external-actions``, and when a user
confirms that FORM it reduces the order's payment by the percentage entered and answers with a
COMMENT related to the FORM, e.g. "payment reduced by 10%: 99.00 → 89.10".

Redelivery is harmless: the reduction is keyed by the execution's id at the payment API, and the
comment's id is derived from it, so orderflow accepts it once. Offsets are committed after the
comment is sent: a crash in between handles the execution again, not never.

Settings (environment): ORDERFLOW_KAFKA_BOOTSTRAP (127.0.0.1:9092), ORDERFLOW_TOPIC_PREFIX (""),
ORDERFLOW_API_KEY (the key `make run` printed), ORDERFLOW_EXECUTOR_URL (http://127.0.0.1:8003),
ORDERFLOW_INGEST_URL (http://127.0.0.1:8001), PAYMENT_API_PORT (8010)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from decimal import ROUND_HALF_UP, Decimal

import aiohttp
from aiohttp import web
from confluent_kafka import Consumer, Producer
from orderflow_schemas import Comment, DecodeError, ExternalActionExecution, decode
from orderflow_schemas.topics import COMMENTS, EXTERNAL_ACTIONS

log = logging.getLogger("payment-connector")
NAME = "Reduce payment"
NS = uuid.UUID("0b9d3c1e-7f41-4d0a-a2f5-5e0c9d8e1a27")
FORM = {
    "type": "FORM", "name": {"en_US": NAME, "de_DE": "Zahlung kürzen"}, "groups": ["payments"],
    "elements": [
        {"kind": "headline", "text": {"en_US": "Payment adjustment",
                                      "de_DE": "Zahlungsanpassung"}},
        {"kind": "text", "style": "info", "text": {
            "en_US": "Reduces the amount paid by a percentage.",
            "de_DE": "Kürzt den gezahlten Betrag um einen Prozentsatz."}},
        {"kind": "input", "id": "percent", "inputType": "integer", "mandatory": True, "min": 1,
         "max": 50, "label": {"en_US": "Percent", "de_DE": "Prozent"}}],
    "confirmLabel": {"en_US": "Reduce", "de_DE": "Kürzen"},
    "cancelLabel": {"en_US": "Cancel", "de_DE": "Abbrechen"},
}
CENT = Decimal("0.01")


class PaymentApi:
    """The fake payment provider: what each order paid, reductions applied once per reference."""

    def __init__(self) -> None:
        self.paid: dict[str, Decimal] = {}
        self.done: dict[str, dict[str, str]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/payments/{order}", self.capture)
        app.router.add_get("/payments/{order}", self.show)
        app.router.add_post("/payments/{order}/reductions", self.reduce)
        return app

    async def capture(self, request: web.Request) -> web.Response:
        order = request.match_info["order"]
        body = await request.json()
        self.paid.setdefault(order, Decimal(str(body["amount"])).quantize(CENT))
        return web.json_response({"order": order, "paid": str(self.paid[order])})

    async def show(self, request: web.Request) -> web.Response:
        order = request.match_info["order"]
        if order not in self.paid:
            return web.json_response({"error": "no payment"}, status=404)
        return web.json_response({"order": order, "paid": str(self.paid[order])})

    async def reduce(self, request: web.Request) -> web.Response:
        order = request.match_info["order"]
        body = await request.json()
        if body["reference"] in self.done:
            return web.json_response(self.done[body["reference"]])
        if order not in self.paid:
            return web.json_response({"error": "no payment"}, status=404)
        before = self.paid[order]
        after = (before * (100 - Decimal(body["percent"])) / 100).quantize(CENT, ROUND_HALF_UP)
        self.paid[order] = after
        self.done[body["reference"]] = {"before": str(before), "after": str(after)}
        return web.json_response(self.done[body["reference"]])


class Connector:
    def __init__(self, env: dict[str, str]) -> None:
        self.bootstrap = env.get("ORDERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
        self.prefix = env.get("ORDERFLOW_TOPIC_PREFIX", "")
        self.executor = env.get("ORDERFLOW_EXECUTOR_URL", "http://127.0.0.1:8003")
        self.ingest = env.get("ORDERFLOW_INGEST_URL", "http://127.0.0.1:8001")
        self.port = int(env.get("PAYMENT_API_PORT", "8010"))
        self.headers = {"Authorization": f"Bearer {env.get('ORDERFLOW_API_KEY', '')}"}
        self.payments = f"http://127.0.0.1:{self.port}"
        self.template_id = ""

    async def ensure_form(self, http: aiohttp.ClientSession) -> str:
        """The id of the "Reduce payment" template, created on the first start."""
        after = None
        while True:
            async with http.get(f"{self.executor}/api/v1/external-action-templates",
                                params={"after": after} if after else {}) as answer:
                answer.raise_for_status()
                page = await answer.json()
            for template in page["templates"]:
                if template["name"].get("en_US") == NAME and "payments" in template["groups"]:
                    return str(template["id"])
            if not (after := page["nextAfter"]):
                break
        async with http.post(f"{self.executor}/api/v1/external-action-templates",
                             json=FORM) as answer:
            answer.raise_for_status()
            return str((await answer.json())["id"])

    async def handle(self, http: aiohttp.ClientSession, execution: ExternalActionExecution,
                     producer: Producer) -> None:
        if execution.action_id != self.template_id and execution.action_name != NAME:
            return  # another connector's action
        order = execution.external_order_id
        percent = execution.inputs.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int):
            log.warning("execution %s has no whole percent: %r, skipped", execution.id, percent)
            return  # orderflow checked the FORM; this is some other shape of it
        async with http.get(f"{self.ingest}/api/v1/orders/{order}") as answer:
            answer.raise_for_status()
            total = (await answer.json())["order"].get("totalCost", 0)
        async with http.put(f"{self.payments}/payments/{order}", json={"amount": total}):
            pass
        async with http.post(f"{self.payments}/payments/{order}/reductions",
                             json={"percent": percent, "reference": execution.id}) as answer:
            answer.raise_for_status()
            done = await answer.json()
        comment = Comment(
            id=str(uuid.uuid5(NS, execution.id)), external_order_id=order, author="payments",
            related_action_id=execution.action_id,
            text=f"payment reduced by {percent}%: {done['before']} → {done['after']}")
        producer.produce(COMMENTS.qualified(self.prefix), key=order, value=comment.to_wire())
        if producer.flush(10):
            raise RuntimeError("the broker did not take the comment")
        log.info("payment of %s reduced by %s%%: %s -> %s", order, percent, done["before"],
                 done["after"])

    async def run(self, stop: asyncio.Event) -> None:
        runner = web.AppRunner(PaymentApi().app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        log.info("fake payment API on %s", self.payments)
        consumer = Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": "payment-connector",
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000})
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        try:
            async with aiohttp.ClientSession(headers=self.headers) as http:
                self.template_id = await self.ensure_form(http)
                log.info("FORM %r is template %s", NAME, self.template_id)
                consumer.subscribe([EXTERNAL_ACTIONS.qualified(self.prefix)])
                while not stop.is_set():
                    message = await asyncio.to_thread(consumer.poll, 0.5)
                    if message is None or message.error():
                        continue
                    try:
                        execution = decode(ExternalActionExecution, message.value())
                    except DecodeError as exc:
                        log.warning("skipped a message that is not an execution: %s", exc)
                    else:
                        await self._handle_until_done(http, execution, producer, stop)
                    consumer.commit(message=message, asynchronous=False)
        finally:
            consumer.close()
            await runner.cleanup()

    async def _handle_until_done(self, http: aiohttp.ClientSession,
                                 execution: ExternalActionExecution, producer: Producer,
                                 stop: asyncio.Event) -> None:
        # Not committed until handled: a payment API or orderflow that is down is waited for.
        while not stop.is_set():
            try:
                await self.handle(http, execution, producer)
                return
            except (aiohttp.ClientError, RuntimeError) as exc:
                log.warning("execution %s failed, retrying: %r", execution.id, exc)
                await asyncio.sleep(2)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = asyncio.Event()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Connector(dict(os.environ)).run(stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
