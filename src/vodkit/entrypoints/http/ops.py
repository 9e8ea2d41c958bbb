"""Operations: liveness, readiness, Prometheus metrics, and the dead-letter queues (admin)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ...services.dead_letters import DeadLetters
from .auth import Admin, _api
from .problems import ERRORS, documented
from .schemas import DeadLetterList, DeadLetterOut, Health, Redrive, Redriven

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> Response:
    """The catalog, the queues and the stores answer."""
    app = _api(request).app
    checks: dict[str, str] = {}
    probes: dict[str, Callable[[], object]] = {
        "catalog": lambda: app.catalog.get("readyz"),
        "queues": lambda: [q.depth() for q in app.queues.values()],
        "uploads": lambda: next(iter(app.uploads.list("uploads/readyz/")), None),
        "outputs": lambda: next(iter(app.outputs.list("readyz/")), None),
    }
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # a readiness probe reports, it does not fail
            checks[name] = type(exc).__name__
    ready = all(v == "ok" for v in checks.values())
    health = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(health.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus' text exposition."""
    api = _api(request)
    app = api.app
    for status, count in api.events.counts().items():
        app.metrics.gauge("Assets", count, status=status)
    for name, queue in app.queues.items():
        depth = queue.depth()
        app.metrics.gauge("QueueDepth", depth.visible, queue=name)
        app.metrics.gauge("DeadLetters", depth.dead, queue=name)
        app.metrics.gauge("QueueOldestMessageAge", depth.oldest_age or 0.0, queue=name)
    body, content_type = api.metrics_text()
    return Response(body, media_type=content_type)


dlq = APIRouter(prefix="/v1/dlq", tags=["operations"], responses={**ERRORS, **documented(403)})


@dlq.get("", response_model=DeadLetterList)
def dead_letters(request: Request, who: Admin) -> DeadLetterList:
    """Every dead-lettered message, with the reason of its last failure."""
    letters = DeadLetters(_api(request).app.queues).letters()
    return DeadLetterList(
        items=[
            DeadLetterOut(
                queue=d.queue, id=d.id, receiveCount=d.receive_count, lastError=d.last_error
            )
            for d in letters
        ]
    )


@dlq.post("/redrive", response_model=Redriven)
def redrive(request: Request, who: Admin, body: Redrive) -> Redriven:
    """Move dead letters (all, or ``ids``, of every queue or ``queue``) back to their queue."""
    return Redriven(redriven=DeadLetters(_api(request).app.queues).redrive(body.ids, body.queue))
