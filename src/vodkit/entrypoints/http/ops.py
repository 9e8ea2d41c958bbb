"""Operations: liveness, readiness, Prometheus metrics, and the dead-letter queues (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ...services.dead_letters import DeadLetters
from .auth import Admin, _api
from .problems import ERRORS, documented
from .schemas import DeadLetterList, DeadLetterOut, Redrive, Redriven
from .schemas import Health as HealthOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(request: Request) -> Response:
    """The catalog, the queues and the stores answer."""
    found = _api(request).health.readiness()
    shown = HealthOut(status="ok" if found.ready else "unavailable", checks=found.checks)
    return JSONResponse(shown.model_dump(), status_code=200 if found.ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus' text exposition."""
    _api(request).health.report()
    body, content_type = _api(request).metrics_text()
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
