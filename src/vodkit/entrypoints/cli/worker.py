"""``vodkit worker``: process uploads until stopped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from ...services.processing import BrokerWork, Runnable
from .. import worker as process
from .common import app, err, footprint


def celery(work: Callable[[], BrokerWork], queues: Sequence[str]) -> Runnable:
    """The runtime of a footprint whose workers are a broker's (the cluster's Celery)."""
    from ..celery_worker import CeleryWorker  # only where the cluster's extra is installed

    return CeleryWorker(work(), queues)


@app.command()
def worker(
    watch: Annotated[bool, typer.Option(help="Pick up files written into uploads/.")] = True,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics here.")
    ] = None,
    queues: Annotated[
        str,
        typer.Option(help="Only these queues, comma-separated (cluster: ingest,transcode,chunks)."),
    ] = "",
) -> None:
    """Process uploads until interrupted (Ctrl-C finishes nothing half-way: the message returns)."""
    vodkit = footprint()
    vodkit.processing.check()
    loop = vodkit.processing.worker(
        watch=watch, queues=[q.strip() for q in queues.split(",") if q.strip()], broker=celery
    )
    if port := metrics_port or vodkit.settings.metrics_port:
        vodkit.serve_metrics(port)
        err.print(f"metrics on http://127.0.0.1:{port}/metrics")
    err.print(f"vodkit worker on {vodkit.settings.data_dir.resolve()} (Ctrl-C to stop)")
    process.run(loop)
