"""``vodkit serve``: the HTTP API, and on the embedded footprint the worker too."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Annotated

import typer

from ...footprints import Api, needs_extra
from ...services.consumer import Interrupted
from ...services.worker import Worker
from .common import app, err

log = logging.getLogger("vodkit.serve")
SWEEP_PERIOD = 600.0  # seconds between removals of expired unfinished uploads


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run a worker in this process (default: on the embedded footprint only;"
            " the cluster's are `vodkit worker`).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (its contract at /openapi.json, rendered at /docs)."""
    with needs_extra("api", "vodkit serve"):
        import uvicorn

        from ..http import LOOP, create_app
    from ...config import Selection, load_settings
    from ...footprints import load_api
    from .common import configure_logging

    selection = load_settings(Selection)
    configure_logging(selection.log_level)
    api = load_api()
    if worker is None:
        worker = selection.backend == "embedded"
    stop = threading.Event()
    threads = [threading.Thread(target=_sweep, args=(api, stop), name="sweeper", daemon=True)]
    if worker:
        api.app.processing.check()
        loop = api.app.processing.worker(watch=True)
        threads.append(threading.Thread(target=_work, args=(loop, stop), name="worker"))
    for thread in threads:
        thread.start()
    err.print(
        f"vodkit API on http://{host}:{port} (docs at /docs){' with a worker' if worker else ''}"
    )
    try:
        uvicorn.run(
            create_app(api), host=host, port=port, loop=LOOP, log_level="warning", access_log=False
        )
    finally:
        stop.set()
        api.app.processing.interrupt()  # the job in hand goes back to the queue at once
        for thread in threads:
            thread.join(timeout=30)


def _work(loop: Worker, stop: threading.Event) -> None:
    with contextlib.suppress(Interrupted):  # stopping: the message went back
        loop.run(stop)


def _sweep(api: Api, stop: threading.Event) -> None:
    api.uploads.sweep()
    while not stop.wait(SWEEP_PERIOD):
        try:
            removed = api.uploads.sweep()
            if removed:
                log.info("removed %d expired uploads", removed)
        except Exception:  # a busy disk: next time
            log.exception("sweeping expired uploads failed")
