"""``vodkit serve``: the HTTP API, and on the embedded footprint the worker too."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from typing import Annotated

import typer

from ...domain.errors import ConfigError
from ...footprints import Api, needs_extra
from ...services.consumer import Interrupted
from ...services.worker import Worker
from .common import EXIT_INTERNAL, app, err, fail

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
    listening = listen(host, port)  # first: a port in use stops it before anything starts
    api = load_api()
    if worker is None:
        worker = api.app.processing.in_process
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
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api), host=host, port=port, loop=LOOP, log_level="warning", access_log=False
        )
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has stopped serving
            server.run(sockets=[listening])
    finally:
        listening.close()
        stop.set()
        api.app.processing.interrupt()  # the job in hand goes back to the queue at once
        for thread in threads:
            thread.join(timeout=30)
    if not server.started:  # the app's startup failed: uvicorn has logged why
        fail("the HTTP API did not start", EXIT_INTERNAL)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn to serve on (held from now on: no other
    program can take the port between this check and serving)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses it
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is in use: stop the program listening there, "
                "or choose another port with --port"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


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
