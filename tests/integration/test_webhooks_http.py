"""Webhooks end to end: a real receiver checks every signature with ``standardwebhooks``;
retries, a receiver that was down, a worker killed between the commit and the send, and
destinations that must not be reached."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier

from tests.api_server import Served, free_port, serve

pytestmark = pytest.mark.integration
# Quick retries; the default 10 s timeout, so that a loaded machine's slow loopback answer is
# not taken for a failed delivery (one more "retried" than the test counts).
FAST = {"webhook_backoff": (0.3, 0.3, 0.3), "webhook_timeout": 10.0}


class Receiver:
    """A webhook endpoint: answers from a script (default 200), verifies what it gets."""

    def __init__(self, port: int = 0) -> None:
        self.answers: list[int] = []
        self.failing: dict[str, int] = {}  # event type -> how many of its attempts answer 500
        self.hang = threading.Event()  # set: the next request is held until released
        self.release = threading.Event()
        self.received: list[dict[str, Any]] = []
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hang.is_set():
                    receiver.hang.clear()
                    receiver.release.wait(60)
                    return
                payload = Verifier(receiver.secret).verify(body, dict(self.headers))
                receiver.received.append({"id": self.headers["webhook-id"], **payload})
                status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.failing.get(payload["type"]):
                    receiver.failing[payload["type"]] -= 1
                    status = 500
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", f"http://127.0.0.1:{free_port()}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def types(self) -> list[str]:
        return [r["type"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def subscribe(served: Served, client: Any, url: str, events: list[str]) -> dict[str, Any]:
    reply = client.post("/v1/webhooks", json={"url": url, "events": events})
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def wait(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_every_event_is_signed_and_retried_until_it_lands(
    tmp_path: Path, receiver: Receiver, clips: dict[str, Path]
) -> None:
    with serve(tmp_path / "data", **FAST) as served:
        alice, bob = served.client("alice"), served.client("bob")
        hook = subscribe(served, alice, receiver.url, sorted(
            ["asset.created", "asset.processing", "asset.completed", "asset.deleted"]
        ))  # fmt: skip
        receiver.secret = hook["secret"]
        assert (
            hook["secret"].startswith("whsec_")
            and "secret" not in alice.get("/v1/webhooks").json()["items"][0]
        )
        receiver.failing = {"asset.created": 2}  # its delivery fails twice, then lands
        asset = alice.post(
            "/v1/assets", params={"filename": "c.mp4"}, content=clips["tiny"].read_bytes()
        ).json()
        bob.post("/v1/assets", params={"filename": "b.mp4"}, content=clips["tiny"].read_bytes())
        served.wait_for(alice, asset["assetId"], "COMPLETED")
        wait(lambda: "asset.completed" in receiver.types())
        shown = alice.get(f"/v1/assets/{asset['assetId']}").json()
        assert alice.delete(f"/v1/assets/{asset['assetId']}").status_code == 204
        wait(lambda: "asset.deleted" in receiver.types())
        # each delivery retries on its own clock: the later events may land before it does
        wait(lambda: receiver.types().count("asset.created") >= 3)
        delivered = [r for r in receiver.received if r["type"] == "asset.created"]
        assert len(delivered) == 3 and len({r["id"] for r in delivered}) == 1  # one webhook-id
        assert {r["data"]["assetId"] for r in receiver.received} == {asset["assetId"]}  # not bob's
        completed = next(r for r in receiver.received if r["type"] == "asset.completed")
        assert completed["data"]["status"] == "COMPLETED" and completed["timestamp"]
        sent = completed["data"]  # the API's view of the asset, field for field
        assert set(sent) == set(shown)
        plain = set(shown) - {"renditions", "playback"}  # the API fills in Nones
        assert {k: sent[k] for k in plain} == {k: shown[k] for k in plain}
        assert [{k: v for k, v in r.items() if v is not None} for r in sent["renditions"]] == [
            {k: v for k, v in r.items() if v is not None} for r in shown["renditions"]
        ]
        assert shown["playback"] and sent["playback"] is None  # no public_url: the sender
        # cannot know the API's address (tests/unit/test_asset_view.py has one set)

        def created_delivered() -> dict[str, Any] | None:  # recorded once its answer is read
            history = alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
            found: dict[str, Any] = next(d for d in history if d["type"] == "asset.created")
            return found if found["state"] == "delivered" else None

        created = wait(created_delivered)
        assert [a["status"] for a in created["attempts"]] == [500, 500, 200]
        assert bob.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
        assert bob.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
        metrics = served.client().get("/metrics").text
        assert 'vodkit_webhook_deliveries_total{outcome="retried"} 2.0' in metrics
        assert alice.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
        assert alice.get("/v1/webhooks").json()["items"] == []


def test_a_receiver_that_was_down_still_gets_the_event(
    tmp_path: Path, clips: dict[str, Path]
) -> None:
    port = free_port()
    with serve(tmp_path / "data", **FAST) as served:
        alice = served.client("alice")
        hook = subscribe(served, alice, f"http://127.0.0.1:{port}/hook", ["asset.completed"])
        asset = alice.post(
            "/v1/assets", params={"filename": "c.mp4"}, content=clips["tiny"].read_bytes()
        ).json()
        served.wait_for(alice, asset["assetId"], "COMPLETED")
        wait(lambda: [d for d in alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
                      if len(d["attempts"]) >= 2])  # fmt: skip
        late = Receiver(port)  # it comes back up
        late.secret = hook["secret"]
        try:
            wait(lambda: late.received)
            assert late.types() == ["asset.completed"]
            (delivery,) = alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
            assert delivery["state"] == "delivered" and delivery["attempts"][0]["status"] is None
        finally:
            late.close()


def test_a_worker_killed_between_the_commit_and_the_send_loses_nothing(
    tmp_path: Path, receiver: Receiver, clips: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    with serve(data, worker=False, **FAST) as served:
        alice = served.client("alice")
        hook = subscribe(served, alice, receiver.url, ["asset.completed"])
        receiver.secret = hook["secret"]
        receiver.hang.set()  # the first send is held: the worker dies with it in flight
        env = {**os.environ, "VODKIT_DATA_DIR": str(data), "VODKIT_WEBHOOK_TIMEOUT": "2",
               "VODKIT_WEBHOOK_BACKOFF": "[0.3]", "VODKIT_WEBHOOK_ALLOW_PRIVATE": "true",
               "VODKIT_POLL_INTERVAL": "0.1", "VODKIT_RETRY_BACKOFF": "0"}  # fmt: skip
        vodkit = str(Path(sys.executable).with_name("vodkit"))

        def worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen([vodkit, "worker", "--no-watch"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)  # fmt: skip

        first = worker()
        try:
            asset = alice.post("/v1/assets", params={"filename": "c.mp4"},
                               content=clips["tiny"].read_bytes()).json()  # fmt: skip
            served.wait_for(alice, asset["assetId"], "COMPLETED")  # committed, with its outbox row
            wait(lambda: not receiver.hang.is_set())  # the send is in flight
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        receiver.release.set()
        second = worker()
        try:
            wait(lambda: receiver.received, timeout=60)  # once the dead worker's lease is over
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(30)
        assert {r["id"] for r in receiver.received} == {
            next(iter(alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]))["id"]
        }
        assert receiver.types()[0] == "asset.completed"


def test_private_destinations_and_redirects_are_refused(tmp_path: Path, receiver: Receiver) -> None:
    with serve(tmp_path / "data", worker=False, webhook_allow_private=False) as served:
        alice = served.client("alice")
        for url in (receiver.url, "http://localhost:9/x", "http://[::1]/x", "http://169.254.169.254/latest",
                    "http://10.0.0.1/x", "ftp://example.com/x", "http://user:pw@example.com/x"):  # fmt: skip
            reply = alice.post("/v1/webhooks", json={"url": url, "events": ["asset.completed"]})
            assert reply.status_code == 400, (url, reply.text)
            assert reply.headers["content-type"] == "application/problem+json"
        bad = alice.post("/v1/webhooks", json={"url": "https://example.com/", "events": ["nope"]})
        assert bad.status_code == 400
    with serve(tmp_path / "data2", worker=False, **FAST) as served:
        alice = served.client("alice")
        hook = subscribe(served, alice, receiver.url, ["asset.created"])
        receiver.secret = hook["secret"]
        receiver.answers = [302]  # a redirect is not followed: it is a failed attempt
        target = Receiver()
        try:
            alice.post("/v1/assets", params={"filename": "x.mp4"}, content=b"not a video")
            served.api.app.processing.worker(watch=False).drain()  # ingest: asset.created
            wait(lambda: served.api.webhooks.pump() or receiver.received)
            deliveries = wait(lambda: [d for d in alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
                                       if d["attempts"]])  # fmt: skip
            assert deliveries[0]["attempts"][0]["status"] == 302
            assert deliveries[0]["state"] == "pending" and not target.received
        finally:
            target.close()
    json.dumps(receiver.received)


def test_a_gone_receiver_disables_its_webhook_and_times_are_iso(
    tmp_path: Path, receiver: Receiver
) -> None:
    """``disabled`` is a boolean (the reason beside it); delivery times are ISO 8601, as every
    other time in the API."""
    with serve(tmp_path / "data", worker=False, **FAST) as served:
        alice = served.client("alice")
        hook = subscribe(served, alice, receiver.url, ["asset.created"])
        assert hook["disabled"] is False and hook["disabledReason"] is None
        receiver.secret = hook["secret"]
        receiver.answers = [500, 410]  # retried once (pending), then gone: disabled
        alice.post("/v1/assets", params={"filename": "x.mp4"}, content=b"not a video")
        served.api.app.processing.worker(watch=False).drain()  # ingest: asset.created

        def attempted(count: int) -> list[dict[str, Any]]:
            served.api.webhooks.pump()
            found = alice.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
            return found if found and len(found[0]["attempts"]) >= count else []

        (pending,) = wait(lambda: attempted(1))
        assert pending["state"] == "pending"
        for moment in (pending["attempts"][0]["at"], pending["nextAttemptAt"]):
            assert isinstance(moment, str) and moment.endswith("Z"), moment
        assert pending["nextAttemptAt"] > pending["attempts"][0]["at"]  # string order: time order
        (gone,) = wait(lambda: attempted(2))
        assert gone["nextAttemptAt"] is None and gone["attempts"][1]["status"] == 410
        (listed,) = wait(lambda: alice.get("/v1/webhooks").json()["items"])
        assert listed["disabled"] is True and listed["disabledReason"]
