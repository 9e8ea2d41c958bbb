"""What each install can do: no extra runs the embedded CLI; a missing extra is one line.

The real installs, one fresh venv per extra, are tests/e2e/test_install.py; here the
extras' modules are hidden from a vodkit process (``sys.modules[name] = None``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.webhooks.http import HttpxWebhookSender
from vodkit.adapters.webhooks.memory import MemoryWebhookSender, MemoryWebhookStore
from vodkit.domain.asset import Asset
from vodkit.domain.errors import ConfigError
from vodkit.services.webhooks import WebhookService

from .test_webhooks import NOW

EXTRAS = {  # the modules that only an extra brings
    "api": ["fastapi", "uvicorn", "httptools", "httpx", "standardwebhooks"],
    "aws": ["boto3", "botocore", "yaml"],
    "cluster": ["psycopg", "psycopg_pool", "celery", "kombu"],
}


def vodkit(
    tmp_path: Path, *args: str, hidden: list[str], **env: str
) -> subprocess.CompletedProcess:
    code = (
        f"import sys\nfor name in {hidden!r}: sys.modules[name] = None\n"
        f"sys.argv = ['vodkit', *{list(args)!r}]\n"
        "from vodkit.entrypoints.cli import main\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "VODKIT_DATA_DIR": str(tmp_path / "data"), **env},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", [["assets", "list"], ["keys", "list"], ["dlq", "list"]])
def test_the_embedded_cli_needs_no_extra(tmp_path: Path, command: list[str]) -> None:
    done = vodkit(tmp_path, *command, hidden=[m for ms in EXTRAS.values() for m in ms])
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("command", "env", "hidden", "line"),
    [
        (["serve"], {}, "fastapi",
         "vodkit serve needs fastapi, which is not installed: pip install 'vodkit[api]'"),
        (["db", "upgrade"], {"VODKIT_BACKEND": "cluster"}, "boto3",
         "the cluster footprint needs boto3, which is not installed: "
         "pip install 'vodkit[cluster]'"),
    ],
)  # fmt: skip
def test_a_command_needing_a_missing_extra_says_which_in_one_line(
    tmp_path: Path, command: list[str], env: dict[str, str], hidden: str, line: str
) -> None:
    done = vodkit(tmp_path, *command, hidden=[hidden], **env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {line}"]


def test_the_version_is_the_installed_package_s(tmp_path: Path) -> None:
    done = vodkit(tmp_path, "--version", hidden=[])
    assert done.returncode == 0 and done.stdout.strip() == version("vodkit")


def test_without_the_sending_modules_deliveries_wait_for_a_worker_that_has_them(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "standardwebhooks", None)
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(ConfigError, match=r"needs httpx.*pip install 'vodkit\[api\]'"):
        HttpxWebhookSender().send("https://hooks.example/in", b"{}", {})
    catalog, store, sender = MemoryCatalog(), MemoryWebhookStore(), MemoryWebhookSender()
    service = WebhookService(store, catalog, sender, MemoryMetrics(), lease=60)
    hook = service.subscribe("alice", "https://hooks.example/in", ["asset.created"])
    catalog.create(Asset.new(asset_id="a1", uploader_id="alice", source_key="uploads/alice/x.mp4",
                             source_bucket="b", source_version="v", filename="x.mp4",
                             file_size=5, now=NOW))  # fmt: skip
    stop = threading.Event()
    worker = threading.Thread(target=service.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="vodkit.services.webhooks"):
        worker.start()
        deadline = time.monotonic() + 10
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        worker.join(timeout=10)
    assert [r.getMessage() for r in caplog.records] == [
        "webhook deliveries wait: sending webhooks needs standardwebhooks, which is not"
        " installed: pip install 'vodkit[api]'"
    ]
    (delivery,) = service.deliveries(hook)
    assert delivery.state == "pending" and delivery.attempts == () and sender.sent == []
    assert store.claim(service.now(), 60) is not None  # never claimed: a sender takes it at once
