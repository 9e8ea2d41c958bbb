"""Webhooks: who wants which asset events, and when a delivery is tried again.

A delivery is retried on any answer but 2xx, a timeout or a refused connection:
after 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h, until 24 h after its first
attempt; then it is failed. A 410 Gone disables the endpoint.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from .errors import InvalidInput
from .outbox import EVENT_TYPES, UPDATED

EVENTS = frozenset({*EVENT_TYPES.values(), UPDATED})
BACKOFF = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)  # seconds before attempt 2, 3, ...
GIVE_UP_AFTER = 24 * 3600.0
MAX_URL = 2048
DELIVERY_STATES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    uploader_id: str
    url: str
    events: tuple[str, ...]
    secret: str  # whsec_<base64>: the Standard Webhooks signing key
    created_at: str
    disabled: str = ""  # why it no longer receives anything (a 410 Gone)


@dataclass(frozen=True)
class Attempt:
    at: float
    status: int | None  # the HTTP status, None when there was no answer
    error: str = ""


@dataclass(frozen=True)
class Delivery:
    delivery_id: str  # the webhook-id header: the same on every attempt
    webhook_id: str
    event_seq: int
    type: str
    payload: str  # the body, made once: every attempt sends the same bytes
    state: str = "pending"
    attempts: tuple[Attempt, ...] = ()
    next_at: float = 0.0
    created_at: float = 0.0


def new_webhook(uploader_id: str, url: str, events: list[str], created_at: str) -> Webhook:
    check_url(url)
    unknown = sorted(set(events) - EVENTS)
    if not events or unknown:
        raise InvalidInput(
            f"events must be some of {', '.join(sorted(EVENTS))}"
            + (f"; not {', '.join(unknown)}" if unknown else "")
        )
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return Webhook(
        webhook_id=f"wh_{uuid.uuid4().hex}",
        uploader_id=uploader_id,
        url=url,
        events=tuple(sorted(set(events))),
        secret=secret,
        created_at=created_at,
    )


def check_url(url: str) -> None:
    """An http(s) URL with a host and no credentials (where it resolves to is checked on
    every send, by the sender)."""
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise InvalidInput(f"the webhook URL must be at most {MAX_URL} characters, no spaces")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced or bad [IPv6] host
        raise InvalidInput("the webhook URL is not a URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise InvalidInput("the webhook URL must not carry credentials")
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError as exc:
        raise InvalidInput("the webhook URL's port is not a port") from exc


def delivery_id(event_id: str, webhook_id: str) -> str:
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}/{webhook_id}").hex


def after_attempt(
    delivery: Delivery, attempt: Attempt, backoff: tuple[float, ...] = BACKOFF
) -> Delivery:
    """The delivery once ``attempt`` is recorded: delivered, due again later, or failed."""
    attempts = (*delivery.attempts, attempt)
    if attempt.status is not None and 200 <= attempt.status < 300:
        return replace(delivery, state="delivered", attempts=attempts)
    first = attempts[0].at
    delay = backoff[min(len(attempts) - 1, len(backoff) - 1)]
    if attempt.status == 410 or attempt.at + delay - first > GIVE_UP_AFTER:
        return replace(delivery, state="failed", attempts=attempts)
    return replace(delivery, attempts=attempts, next_at=attempt.at + delay)
