"""``/v1/webhooks``: subscriptions to asset events, and what their deliveries did."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...domain.clock import isoformat
from ...domain.webhooks import Webhook
from .auth import Caller, _api
from .problems import ERRORS
from .schemas import (
    AttemptOut,
    DeliveryList,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERRORS)


def _iso(unix: float) -> str:
    """A delivery's Unix time as the API writes every time: ISO 8601, UTC."""
    return isoformat(datetime.fromtimestamp(unix, UTC))


def _out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.webhook_id,
        url=webhook.url,
        events=list(webhook.events),
        uploaderId=webhook.uploader_id,
        createdAt=webhook.created_at,
        disabled=bool(webhook.disabled),
        disabledReason=webhook.disabled or None,
    )


@router.post("", response_model=WebhookCreated, status_code=201)
def subscribe(request: Request, who: Caller, body: WebhookIn) -> WebhookCreated:
    """Be told of the events of your assets (``asset.created``, ``asset.processing``,
    ``asset.completed``, ``asset.failed``, ``asset.deleted``, ``asset.updated``: its captions
    changed), signed with the secret answered here, once."""
    webhook = _api(request).webhooks.subscribe(who.acting_for(body.uploader), body.url, body.events)
    return WebhookCreated(**_out(webhook).model_dump(), secret=webhook.secret)


@router.get("", response_model=WebhookList)
def subscriptions(request: Request, who: Caller) -> WebhookList:
    webhooks = _api(request).webhooks.of(None if who.admin else who.uploader_id)
    return WebhookList(items=[_out(w) for w in webhooks])


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def unsubscribe(request: Request, who: Caller, webhook_id: str) -> Response:
    service = _api(request).webhooks
    service.remove(service.get(webhook_id, who.may_see))
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
def deliveries(
    request: Request,
    who: Caller,
    webhook_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryList:
    """The newest deliveries: each attempt's answer, and when the next is due."""
    service = _api(request).webhooks
    found = service.deliveries(service.get(webhook_id, who.may_see), limit)
    return DeliveryList(
        items=[
            DeliveryOut(
                id=d.delivery_id,
                type=d.type,
                state=d.state,
                attempts=[
                    AttemptOut(at=_iso(a.at), status=a.status, error=a.error) for a in d.attempts
                ],
                nextAttemptAt=_iso(d.next_at) if d.state == "pending" else None,
            )
            for d in found
        ]
    )
