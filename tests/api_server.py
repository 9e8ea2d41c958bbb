"""The HTTP API, served for real: uvicorn on a loopback port, the embedded footprint behind it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from vodkit.config import load_settings
from vodkit.entrypoints.http import LOOP, create_app
from vodkit.footprints import Api
from vodkit.footprints.embedded import EmbeddedSettings, api
from vodkit.services.consumer import Interrupted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, api: Api, url: str) -> None:
        self.api = api
        self.url = url
        self.clients: list[httpx.Client] = []

    def key(self, uploader: str, *, admin: bool = False) -> str:
        return self.api.keys.create(uploader, admin=admin)[1]

    def client(
        self, uploader: str | None = None, *, admin: bool = False, **options: Any
    ) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key(uploader, admin=admin)}"} if uploader else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30, **options)
        self.clients.append(client)
        return client

    def wait_for(
        self, client: httpx.Client, asset_id: str, status: str, timeout: float = 90
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = client.get(f"/v1/assets/{asset_id}")
            if reply.status_code == 200 and reply.json()["status"] == status:
                return reply.json()
            time.sleep(0.2)
        raise AssertionError(f"{asset_id} never reached {status}: {reply.status_code} {reply.text}")


@contextmanager
def serve(data: Path, *, worker: bool = True, **settings: Any) -> Iterator[Served]:
    """The API on a free port over ``data`` (and a worker, unless told not to)."""
    defaults = {"retry_backoff": 0, "poll_interval": 0.1, "webhook_allow_private": True}
    served_api = api(load_settings(EmbeddedSettings, data_dir=data, **{**defaults, **settings}))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(served_api), host="127.0.0.1", port=port, loop=LOOP, log_level="warning"
        )
    )
    threads = [threading.Thread(target=server.run, daemon=True)]
    stop = threading.Event()
    if worker:
        loop = served_api.app.processing.worker(watch=False)

        def work() -> None:
            with suppress(Interrupted):
                loop.run(stop)

        threads.append(threading.Thread(target=work, daemon=True))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    served = Served(served_api, f"http://127.0.0.1:{port}")
    try:
        yield served
    finally:
        for client in served.clients:
            client.close()
        stop.set()
        served_api.app.processing.interrupt()
        server.should_exit = True
        for thread in threads:
            thread.join(timeout=30)
