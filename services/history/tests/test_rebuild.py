"""``orderflow-history rebuild`` re-creates the read models from the topics, ending with the
same data."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
from fastapi.testclient import TestClient
from orderflow_history.config import HistorySettings
from orderflow_history.projector import PROJECTED
from orderflow_history.rebuild import rebuild
from orderflow_schemas.topics import ORDER_EVENTS

from .conftest import Produce, caught_up, dump_tables, eventually
from .test_customers_api import produce_customers
from .test_timeline_api import produce_order_story


def _wreck(dsn: str) -> None:
    """Damage the read models the way a bad deploy might."""

    async def wreck() -> None:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "history"})
        try:
            await conn.execute("DELETE FROM timeline WHERE kind = 'comment'")
            await conn.execute("UPDATE customers SET delivered_count = 0")
        finally:
            await conn.close()

    asyncio.run(wreck())


def project_everything(settings: HistorySettings, produce: Produce) -> None:
    produce_order_story(produce)
    produce_customers(produce)
    produce(ORDER_EVENTS, b"poison", key="o1")
    from orderflow_history.bootstrap import build_app

    with TestClient(build_app(settings)):
        eventually(lambda: caught_up(settings, PROJECTED))


def test_rebuild_ends_with_the_same_data(settings: HistorySettings, produce: Produce) -> None:
    project_everything(settings, produce)
    before = dump_tables(settings.database_url)
    _wreck(settings.database_url)
    assert dump_tables(settings.database_url) != before

    report = asyncio.run(rebuild(settings, progress=False))
    assert dump_tables(settings.database_url) == before
    assert report.skipped == 1  # the poison record, dead-lettered when it was first seen
    assert report.projected == len(before["timeline"])  # its dead letter is a timeline row


def test_rebuild_command_shows_progress(settings: HistorySettings, produce: Produce) -> None:
    project_everything(settings, produce)
    before = dump_tables(settings.database_url)
    _wreck(settings.database_url)
    env = {**os.environ, "ORDERFLOW_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "ORDERFLOW_DATABASE_URL": settings.database_url,
           "ORDERFLOW_TOPIC_PREFIX": settings.topic_prefix,
           "ORDERFLOW_CONSUMER_GROUP": settings.consumer_group}
    done = subprocess.run([sys.executable, "-m", "orderflow_history.main", "rebuild"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "rebuilding history" in done.stderr and "msg" in done.stderr
    assert "records projected, 1 skipped" in done.stderr
    assert dump_tables(settings.database_url) == before
