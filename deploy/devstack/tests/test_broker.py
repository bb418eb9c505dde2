"""The stack's broker: Tansu starts, carries a message, and stops without a trace."""

from __future__ import annotations

import secrets
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from orderflow_devstack import broker, net


def _round_trip(bootstrap: str) -> bytes | None:
    topic = f"devstack-{secrets.token_hex(4)}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the answer
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=b"k", value=b"hello")
    assert producer.flush(15) == 0
    # Assigned, not subscribed: no consumer group to join, so the test is fast.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "devstack-test",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                return message.value()
        return None
    finally:
        consumer.close()


def test_tansu_starts_carries_a_message_and_stops() -> None:
    own = broker.start_tansu()
    host, port = net.split_host_port(own.bootstrap, 0)
    try:
        assert own.alive()
        assert _round_trip(own.bootstrap) == b"hello"
    finally:
        own.stop()
    assert own.process is not None and own.process.returncode is not None
    assert not net.port_is_open(host, port)


def test_start_refuses_a_taken_port(kafka_bootstrap: str) -> None:
    _, port = net.split_host_port(kafka_bootstrap, 9092)
    if kafka_bootstrap.split(":")[0] not in ("127.0.0.1", "localhost"):
        pytest.skip("the session broker is not on this machine's loopback")
    with pytest.raises(broker.BrokerError, match="already in use"):
        broker.start_tansu(port)


def test_an_external_broker_is_used_and_never_stopped(
        kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_KAFKA_BOOTSTRAP", kafka_bootstrap)
    external = broker.broker_from_env(port=net.free_port())
    assert external.bootstrap == kafka_bootstrap and external.process is None
    external.stop()
    broker.wait_ready(kafka_bootstrap, timeout=5)  # still there
