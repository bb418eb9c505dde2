"""action-executor settings (``ORDERFLOW_`` prefix)."""

from __future__ import annotations

from typing import Literal

from orderflow_runtime.settings import CommonSettings
from pydantic import Field


class ExecutorSettings(CommonSettings):
    http_port: int = Field(8003, description="Port of the action-executor HTTP API")
    consumer_group: str = Field("orderflow-action-executor", description="Group of the intake")
    allowed_hosts: str = Field(
        "", description="Comma-separated host or host:port that effects may call although they "
        "resolve to loopback, private, link-local or metadata addresses")
    retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000,36000",
        description="Seconds to wait before each retry (comma-separated), after a first attempt "
        "made at once: Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). When they run "
        "out the request is dead (exhausted). A Retry-After on 429 or 503 replaces the wait")
    endpoint_concurrency: int = Field(
        64, ge=1, description="Requests in flight to one endpoint at once; more wait, without "
        "taking the slots of other endpoints. A third of ``concurrency``: one endpoint that "
        "hangs holds no more than that, and one that answers fast gets enough for thousands a "
        "second (bench/executor_bench.py)")
    breaker_threshold: int = Field(
        5, ge=1, description="Failures in a row after which an endpoint's circuit breaker opens: "
        "its requests wait instead of taking the executor's time")
    breaker_cooldown: float = Field(
        30.0, gt=0, description="Seconds an open breaker waits before one probe request")
    sms_gateway_url: str = Field(
        "", description="HTTP SMS gateway the SMS effect POSTs {to, from, text, reference} to "
        "(`make run` starts a local sink); SMS effects fail while it is empty")
    sms_gateway_token: str = Field("", description="Bearer token for the SMS gateway")
    sms_sender: str = Field("orderflow", description="Sender name or number of SMS")
    sms_default_region: str = Field(
        "DE", description="Country (ISO 3166 alpha-2) of phone numbers written without +code")
    smtp_host: str = Field("127.0.0.1", description="SMTP server of the e-mail effect")
    smtp_port: int = Field(1025, description="SMTP port (`make run` starts a local sink on 1025)")
    smtp_username: str = Field("", description="SMTP user; no login when empty")
    smtp_password: str = Field("", description="SMTP password")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    mail_from: str = Field("orderflow@localhost", description="From address of e-mails")
    manager_email: str = Field(
        "", description="Who the notify_manager effect e-mails (when the effect names no `to`)")
    secret_rotation_grace: float = Field(
        86400.0, gt=0, description="Seconds a rotated-out endpoint secret keeps signing beside "
        "the new one, so that receivers can switch without losing a webhook")
    retry_jitter: float = Field(0.2, ge=0, le=1, description="Random fraction added to each wait")
    concurrency: int = Field(200, ge=1, description="Effects performed at the same time")
    poll_interval: float = Field(
        5.0, gt=0, description="Longest sleep of an idle worker; new requests wake every "
        "replica at once (PostgreSQL NOTIFY) and a retry coming due wakes it on time, so this "
        "only bounds how late a request is seen when a notification was lost")
    lease_seconds: float = Field(
        30.0, gt=0, description="How long a claim holds a request whose effect has no timeout of "
        "its own (every effect but call URL, whose lease is its timeout); a worker that has not "
        "recorded the attempt by then loses it and cannot record it any more")
    lease_grace_seconds: float = Field(
        30.0, gt=2.0, description="Added to every claim's lease: room to queue for a busy "
        "endpoint's slot (up to 2 s) and to record the outcome. A claim left by a killed "
        "worker is taken again after its lease and this grace")
    egress: Literal["public", "allow-list-only"] = Field(
        "public", description="'public': effects may call public addresses, and internal ones "
        "only when listed in ORDERFLOW_ALLOWED_HOSTS; 'allow-list-only': only hosts listed there "
        "(locked-down deployments, and every test run)")

    @property
    def retry_delays(self) -> list[float]:
        return [float(s) for s in self.retry_schedule.split(",") if s.strip()]
