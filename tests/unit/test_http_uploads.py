"""The tus routes keep the event loop free: an append's fsync runs in a worker thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import anyio
import httpx
import pytest

from vodkit.config import load_settings
from vodkit.entrypoints.http import create_app
from vodkit.footprints.embedded import EmbeddedSettings, api

TUS = {"Tus-Resumable": "1.0.0"}


def test_an_appends_fsync_runs_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = api(load_settings(EmbeddedSettings, data_dir=tmp_path))
    _, token = served.keys.create("u1")
    synced_on: list[int] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        synced_on.append(threading.get_ident())
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recorded)

    async def upload() -> tuple[int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=create_app(served))
        auth = {**TUS, "Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://vodkit") as http:
            created = await http.post("/v1/uploads", headers={**auth, "Upload-Length": "6"})
            patch = {**auth, "Content-Type": "application/offset+octet-stream"}
            first = await http.patch(
                created.headers["location"], headers={**patch, "Upload-Offset": "0"}, content=b"abc"
            )
            return threading.get_ident(), [created, first]

    loop_thread, (created, first) = anyio.run(upload)
    assert (created.status_code, first.status_code) == (201, 204)
    assert first.headers["upload-offset"] == "3"
    assert synced_on and loop_thread not in synced_on
