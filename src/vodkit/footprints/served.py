"""What the footprints that serve the HTTP API from a SQL database share (embedded, cluster):
the webhook service and the API's services over the catalog's database."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..adapters.catalog.base import EventLog
from ..adapters.keys.sql import SqlKeyStore
from ..adapters.metrics.prometheus import PrometheusMetrics
from ..adapters.sqldb import SqlDatabase
from ..adapters.webhooks.http import HttpxWebhookSender
from ..adapters.webhooks.sql import SqlWebhookStore
from ..config import Settings
from ..domain.clock import Clock
from ..services.access import KeyService
from ..services.health import Health, readiness_probes
from ..services.playback import PlaybackTokens
from ..services.sessions import Sessions
from ..services.uploads import ResumableUploads
from ..services.webhooks import WebhookService
from .base import Api, App


def webhook_service(
    settings: Settings,
    db: SqlDatabase,
    catalog: EventLog,
    metrics: PrometheusMetrics,
    playback: PlaybackTokens,
    clock: Clock,
) -> WebhookService:
    """Subscriptions and deliveries in ``db``; payloads link playback under the public URL."""
    public = settings.public_url.rstrip("/")
    return WebhookService(
        SqlWebhookStore(db),
        catalog,
        HttpxWebhookSender(
            allow_private=settings.webhook_allow_private, timeout=settings.webhook_timeout
        ),
        metrics,
        links=lambda asset: playback.urls(asset, f"{public}/play") if public else None,
        lease=2 * settings.webhook_timeout + 5,
        backoff=settings.webhook_backoff,
        clock=clock,
    )


def sql_api(
    app: App,
    db: SqlDatabase,
    events: EventLog,
    metrics: PrometheusMetrics,
    playback: PlaybackTokens,
    webhooks: WebhookService,
) -> Api:
    """Keys in ``db``; resumable uploads on this node's disk until their last byte."""
    keys = KeyService(SqlKeyStore(db), app.clock)
    settings = app.settings
    return Api(
        app=app,
        keys=keys,
        uploads=ResumableUploads(
            settings.data_dir.resolve() / "tus",
            app.assets,
            max_size=settings.limits.max_file_size,
            lifetime=settings.upload_expiry,
        ),
        playback=playback,
        sessions=Sessions(playback.secret, keys),
        webhooks=webhooks,
        events=events,
        metrics_text=lambda: (generate_latest(metrics.registry), CONTENT_TYPE_LATEST),
        health=Health(
            app.queues,
            metrics,
            probes=readiness_probes(app.catalog, app.queues, app.uploads, app.outputs),
            catalog=events,
        ),
        read_now=db.read_now,
    )
