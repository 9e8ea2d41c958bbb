"""The webhook ports: where subscriptions and deliveries are kept, and who sends them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ...domain.errors import ConfigError
from ...domain.outbox import AssetEvent
from ...domain.webhooks import Attempt, Delivery, Webhook

# (event, webhook) -> the body to send, or None to send nothing
Render = Callable[[AssetEvent, Webhook], str | None]


class WebhookStore(Protocol):
    def add(self, webhook: Webhook) -> None: ...

    def get(self, webhook_id: str) -> Webhook | None: ...

    def of(self, uploader_id: str | None) -> list[Webhook]:
        """An uploader's webhooks (None: everyone's), oldest first."""
        ...

    def remove(self, webhook_id: str) -> bool: ...

    def disable(self, webhook_id: str, reason: str) -> None: ...

    def fan_out(self, read: Callable[[int], Sequence[AssetEvent]], render: Render) -> int:
        """Turn the outbox's events past this store's cursor (``read(cursor)``) into
        deliveries for the webhooks that want them, and move the cursor past them, in one
        transaction; how many deliveries were made. Safe to run from several workers."""
        ...

    def claim(self, now: float, lease: float) -> Delivery | None:
        """A due pending delivery, leased to the caller for ``lease`` seconds."""
        ...

    def record(self, delivery: Delivery) -> None:
        """Store a delivery after an attempt (its state, attempts and next try)."""
        ...

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[Delivery]:
        """Newest first."""
        ...


@dataclass(frozen=True)
class Sent:
    status: int | None
    error: str = ""


class WebhookSender(Protocol):
    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Sent:
        """POST once; never raises for what the receiver or the network did."""
        ...

    def refuses(self, url: str) -> str:
        """Why ``url`` may never be sent to (it resolves only to private addresses), or ""."""
        ...


def attempt_of(sent: Sent, at: float) -> Attempt:
    return Attempt(at=at, status=sent.status, error=sent.error[:500])


def missing(exc: ModuleNotFoundError) -> ConfigError:
    """Sending needs httpx and standardwebhooks: the api and cluster extras carry them, and
    an install without them does everything else (its worker leaves deliveries waiting)."""
    return ConfigError(
        f"sending webhooks needs {exc.name}, which is not installed: pip install 'vodkit[api]'"
    )
