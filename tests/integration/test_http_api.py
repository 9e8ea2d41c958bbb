"""The HTTP API over real SQLite, files, FFmpeg and a real server: keys, assets, uploads,
playback, problems, operations, and another uploader's ids on every route."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_server import Served, serve
from tests.conftest import make_clip
from vodkit.config import load_settings
from vodkit.domain.asset import AssetError
from vodkit.domain.clock import utcnow
from vodkit.footprints.embedded import EmbeddedSettings, bootstrap

pytestmark = pytest.mark.integration
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = {**TUS, "Content-Type": "application/offset+octet-stream"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path / "data") as running:
        yield running


@pytest.fixture
def clip(clips: dict[str, Path]) -> Path:
    return clips["small"]


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def upload(client: httpx.Client, path: Path, name: str = "clip.mp4") -> dict:  # type: ignore[type-arg]
    reply = client.post("/v1/assets", params={"filename": name}, content=path.read_bytes())
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def problem(reply: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert reply.status_code == status, (reply.status_code, reply.text)
    if reply.request.method != "HEAD":
        assert reply.headers["content-type"] == "application/problem+json", reply.headers
        body = reply.json()
        assert body["status"] == status and body["title"] and "Traceback" not in reply.text
        return body  # type: ignore[no-any-return]
    return {}


# keys ------------------------------------------------------------------------------


def test_a_request_needs_a_live_key(served: Served) -> None:
    anonymous = served.client()
    assert problem(anonymous.get("/v1/assets"), 401)
    assert anonymous.get("/v1/assets").headers["www-authenticate"].startswith("Bearer")
    for token in ("nonsense", "vk_0000000000000000_" + "a" * 43, "Bearer x" * 100):
        assert problem(
            anonymous.get("/v1/assets", headers={"Authorization": f"Bearer {token}"}), 401
        )
    record, token = served.api.keys.create("alice")
    keyed = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/v1/assets", headers=keyed).status_code == 200
    wrong_secret = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert problem(
        anonymous.get("/v1/assets", headers={"Authorization": f"Bearer {wrong_secret}"}), 401
    )
    served.api.keys.revoke(record.key_id)
    assert problem(anonymous.get("/v1/assets", headers=keyed), 401)


def test_no_key_and_a_key_that_is_not_valid_are_told_apart(served: Served) -> None:
    anonymous = served.client()
    missing = problem(anonymous.get("/v1/assets"), 401)["detail"]
    record, token = served.api.keys.create("alice")
    served.api.keys.revoke(record.key_id)
    wrong = {
        problem(anonymous.get("/v1/assets", headers={"Authorization": f"Bearer {t}"}), 401)[
            "detail"
        ]
        for t in ("nonsense", "vk_0000000000000000_" + "a" * 43, token)  # unknown or revoked
    }
    assert len(wrong) == 1 and missing not in wrong  # one text for every key that is not valid
    assert "not a live API key" in wrong.pop() and "needed" in missing


def test_keys_are_stored_hashed(served: Served) -> None:
    record, token = served.api.keys.create("alice")
    conn = served.api.app.catalog.db.read()  # type: ignore[attr-defined]
    stored = [tuple(r) for r in conn.execute("SELECT * FROM api_keys")]
    secret = token.split("_", 2)[2]  # the whole secret: base64url has underscores of its own
    assert token not in repr(stored) and secret not in repr(stored)
    assert record.secret_hash == hashlib.sha256(secret.encode()).hexdigest()


# assets ----------------------------------------------------------------------------


def test_an_upload_becomes_an_asset_that_plays(served: Served, clip: Path) -> None:
    alice = served.client("alice")
    created = upload(alice, clip)
    assert created["uploaderId"] == "alice" and created["filename"] == "clip.mp4"
    assert created["status"] in ("PENDING", "PROCESSING", "COMPLETED")
    done = served.wait_for(alice, created["assetId"], "COMPLETED")
    assert done["fileSize"] == clip.stat().st_size and done["renditions"]
    assert done["duration"] == pytest.approx(2.0, abs=0.1)  # the clip's, as probed
    made = done["renditions"][0]  # what the rendition became, as the API shows it
    assert made["rateControl"] in ("QVBR", "CBR") and made["analysis"]
    assert made["averageBitrate"] > 0 and made["peakBitrate"] >= made["averageBitrate"]
    for kind in ("stream", "mp4"):  # the codecs as written, the MP4 preview's too
        (row,) = [r for r in done["renditions"] if r["kind"] == kind]
        assert re.fullmatch(r"avc1\.[0-9a-f]{6},mp4a\.40\.2", row["codecs"]), row
    assert set(done["playback"]) == {"hls", "dash", "mp4", "m4a", "poster", "sprite", "captions"}
    assert done["kind"] == "video" and done["playback"]["m4a"] is None  # audio-only assets''' M4A
    assert done["playback"]["captions"] == {}  # no text tracks in this clip
    anyone = served.client()  # playback needs no header: the token is in the path
    master = anyone.get(done["playback"]["hls"])
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert master.headers["access-control-allow-origin"] == "*"
    assert "max-age=60" in master.headers["cache-control"]
    rung = master.text.splitlines()[-1]
    base = done["playback"]["hls"].rsplit("/", 1)[0]
    playlist = anyone.get(f"{base}/{rung}").text
    segment = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
    first = anyone.get(f"{base}/{rung.rsplit('/', 1)[0]}/{segment}")
    assert first.status_code == 200 and first.headers["content-type"] == "video/iso.segment"
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    ranged = anyone.get(done["playback"]["mp4"], headers={"Range": "bytes=10-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 90
    size = int(anyone.head(done["playback"]["mp4"]).headers["content-length"])
    assert ranged.headers["content-range"] == f"bytes 10-99/{size}"
    whole = anyone.get(done["playback"]["mp4"]).content
    assert whole[10:100] == ranged.content and len(whole) == size
    assert (
        anyone.get(done["playback"]["mp4"], headers={"Range": "bytes=-10"}).content == whole[-10:]
    )
    problem(anyone.get(done["playback"]["mp4"], headers={"Range": f"bytes={size}-"}), 416)
    assert anyone.get(done["playback"]["poster"]).headers["content-type"] == "image/jpeg"
    assert anyone.get(done["playback"]["sprite"]).headers["content-type"].startswith("text/vtt")


def test_two_uploads_of_one_name_are_two_assets(served: Served, clips: dict[str, Path]) -> None:
    alice = served.client("alice")
    first = upload(alice, clips["small"], "same.mp4")
    second = upload(alice, clips["tiny"], "same.mp4")
    assert first["assetId"] != second["assetId"]
    for created, path in ((first, clips["small"]), (second, clips["tiny"])):
        done = served.wait_for(alice, created["assetId"], "COMPLETED")
        assert done["filename"] == "same.mp4" and done["fileSize"] == path.stat().st_size


def test_lists_page_newest_first_with_a_cursor_that_stays_put(served: Served, clip: Path) -> None:
    alice, bob = served.client("alice"), served.client("bob")
    for i in range(5):
        upload(alice, clip, f"a{i}.mp4")
    upload(bob, clip, "b.mp4")
    deadline = time.monotonic() + 60
    while (
        len(alice.get("/v1/assets", params={"limit": 100}).json()["items"]) < 5
        or not bob.get("/v1/assets").json()["items"]
    ):  # until ingest has recorded them all
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page = alice.get("/v1/assets", params={"limit": 2}).json()
    assert [a["filename"] for a in page["items"]] == ["a4.mp4", "a3.mp4"] and page["next"]
    upload(alice, clip, "late.mp4")  # a new asset does not shift the next page
    following = alice.get("/v1/assets", params={"limit": 2, "cursor": page["next"]}).json()
    assert [a["filename"] for a in following["items"]] == ["a2.mp4", "a1.mp4"]
    last = alice.get("/v1/assets", params={"limit": 2, "cursor": following["next"]}).json()
    assert [a["filename"] for a in last["items"]] == ["a0.mp4"] and last["next"] is None
    assert all(
        a["uploaderId"] == "alice" for a in alice.get("/v1/assets?uploader=bob").json()["items"]
    )
    problem(alice.get("/v1/assets", params={"cursor": "not-a-cursor"}), 400)
    problem(alice.get("/v1/assets", params={"status": "DELETED"}), 422)
    admin = served.client("ops", admin=True)
    everyone = admin.get("/v1/assets", params={"limit": 100}).json()["items"]
    assert {a["uploaderId"] for a in everyone} == {"alice", "bob"}
    assert [a["uploaderId"] for a in admin.get("/v1/assets?uploader=bob").json()["items"]] == [
        "bob"
    ]


def test_another_uploaders_asset_is_as_absent_as_a_missing_one(served: Served, clip: Path) -> None:
    alice, mallory = served.client("alice"), served.client("mallory")
    asset_id = upload(alice, clip)["assetId"]
    served.wait_for(alice, asset_id, "COMPLETED")
    for method, path in (
        ("GET", f"/v1/assets/{asset_id}"),
        ("GET", f"/v1/assets/{asset_id}/events"),
        ("POST", f"/v1/assets/{asset_id}/retry"),
        ("DELETE", f"/v1/assets/{asset_id}"),
    ):
        theirs = mallory.request(method, path)
        absent = mallory.request(method, path.replace(asset_id, "0" * 8 + asset_id[8:]))
        assert problem(theirs, 404)["detail"].replace(asset_id, "X") == problem(absent, 404)[
            "detail"
        ].replace("0" * 8 + asset_id[8:], "X")
    assert served.wait_for(alice, asset_id, "COMPLETED")  # untouched


def test_a_bad_upload_fails_with_its_reason_and_retry_needs_a_failed_asset(
    served: Served, tmp_path: Path, clip: Path
) -> None:
    alice = served.client("alice")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    failed = served.wait_for(alice, upload(alice, text, "notes.mp4")["assetId"], "FAILED")
    (reason,) = failed["errors"]
    assert reason["code"] == "NotMedia" and reason["kind"] == "input"
    assert failed["playback"] is None
    refused = problem(alice.post(f"/v1/assets/{failed['assetId']}/retry"), 409)
    assert f"NotMedia: {reason['message']}" in refused["detail"]  # the same upload, same reason
    assert alice.get(f"/v1/assets/{failed['assetId']}").json()["attempt"] == 1
    good = upload(alice, clip)
    served.wait_for(alice, good["assetId"], "COMPLETED")
    assert problem(alice.post(f"/v1/assets/{good['assetId']}/retry"), 409)


def test_a_failure_of_vodkits_own_is_retried(tmp_path: Path, clip: Path) -> None:
    with serve(tmp_path / "data", worker=False) as served:
        alice = served.client("alice")
        asset_id = upload(alice, clip)["assetId"]
        bad_outputs = AssetError("VerificationFailed", "the outputs failed their checks")
        assert served.api.app.catalog.fail(asset_id, bad_outputs, utcnow())
        retried = alice.post(f"/v1/assets/{asset_id}/retry")
        assert retried.status_code == 202, retried.text
        assert (retried.json()["status"], retried.json()["attempt"]) == ("PENDING", 2)


def test_delete_removes_outputs_and_upload_and_is_idempotent(served: Served, clip: Path) -> None:
    alice = served.client("alice")
    done = served.wait_for(alice, upload(alice, clip)["assetId"], "COMPLETED")
    asset_id = done["assetId"]
    asset = served.api.app.catalog.get(asset_id)
    assert asset is not None and list(served.api.app.outputs.list(f"{asset_id}/"))
    assert alice.delete(f"/v1/assets/{asset_id}").status_code == 204
    problem(alice.get(f"/v1/assets/{asset_id}"), 404)
    assert alice.delete(f"/v1/assets/{asset_id}").status_code == 204  # again: nothing new
    assert not list(served.api.app.outputs.list(f"{asset_id}/"))
    assert not list(served.api.app.uploads.list(asset.source_key))
    assert asset_id not in [a["assetId"] for a in alice.get("/v1/assets").json()["items"]]
    problem(served.client().get(done["playback"]["hls"]), 404)


def test_a_transcode_running_for_a_deleted_asset_leaves_nothing_behind(
    served: Served, tmp_path: Path
) -> None:
    alice = served.client("alice")
    long_clip = make_clip(tmp_path / "long.mp4", size="1280x720", seconds=20)
    asset_id = upload(alice, long_clip)["assetId"]
    served.wait_for(alice, asset_id, "PROCESSING")
    deadline = time.monotonic() + 60
    while not (
        served.api.app.catalog.jobs(asset_id)
        and served.api.app.catalog.jobs(asset_id)[0].percent > 0
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert alice.delete(f"/v1/assets/{asset_id}").status_code == 204
    time.sleep(3)  # the worker notices within a progress interval and stops FFmpeg
    asset = served.api.app.catalog.get(asset_id)
    assert asset is not None and asset.status.value == "DELETED"
    assert not list(served.api.app.outputs.list(f"{asset_id}/"))
    problem(alice.get(f"/v1/assets/{asset_id}"), 404)


def test_events_stream_status_and_progress_until_the_end(served: Served, tmp_path: Path) -> None:
    alice = served.client("alice")
    asset_id = upload(alice, make_clip(tmp_path / "c.mp4", size="640x360", seconds=6))["assetId"]
    deadline = time.monotonic() + 30
    while alice.get(f"/v1/assets/{asset_id}").status_code == 404:  # until ingest records it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    events: list[tuple[str, str]] = []
    ids: list[str] = []
    with alice.stream("GET", f"/v1/assets/{asset_id}/events", timeout=90) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in reply.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("id:"):
                ids.append(line.split(":", 1)[1].strip())
            elif line.startswith("data:"):
                events.append((event, line.split(":", 1)[1].strip()))
    assert events[-1][0] == "status" and json.loads(events[-1][1])["status"] == "COMPLETED"
    assert "progress" in [e for e, _ in events]  # percent and ETA on the way
    assert len(ids) == len(events) == len(set(ids))  # every event its own id
    route = f"/v1/assets/{asset_id}/events"
    with alice.stream("GET", route, headers={"Last-Event-ID": ids[-1]}) as reply:
        assert list(sse(reply)) == []  # it had everything: nothing again
    with alice.stream("GET", route, headers={"Last-Event-ID": ids[0]}) as reply:
        assert [e for e, _ in sse(reply)] == ["status"]  # what changed since: COMPLETED


def sse(reply: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    event = ""
    for line in reply.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            yield event, json.loads(line.split(":", 1)[1])


def test_one_stream_follows_several_assets_and_tells_nothing_of_anothers(
    served: Served, tmp_path: Path, clip: Path
) -> None:
    alice, bob = served.client("alice"), served.client("bob")
    mine = [upload(alice, make_clip(tmp_path / f"{n}.mp4", seconds=4))["assetId"] for n in "ab"]
    doomed = upload(alice, make_clip(tmp_path / "long.mp4", seconds=20))["assetId"]  # queued
    theirs = upload(bob, clip)["assetId"]
    absent = "0" * 8 + theirs[8:]
    followed = ",".join([*mine, doomed, theirs, absent, mine[0]])  # a repeat is one
    seen: list[tuple[str, dict[str, Any]]] = []
    with alice.stream("GET", "/v1/events", params={"assets": followed}, timeout=120) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        for event, data in sse(reply):
            seen.append((event, data))
            if data.get("assetId") == doomed and event != "deleted":
                assert data["status"] in ("PENDING", "PROCESSING")  # behind the other two
                assert alice.delete(f"/v1/assets/{doomed}").status_code == 204
            ended = {d["assetId"] for e, d in seen if d.get("status") == "COMPLETED"}
            if set(mine) <= ended and ("deleted", {"assetId": doomed}) in seen:
                break  # the missing ones keep the stream open: they may yet appear
    missing = [d["assetId"] for e, d in seen if e == "missing"]
    assert sorted(missing) == sorted([theirs, absent])  # bob's is as absent as none at all
    assert not [d for e, d in seen if d.get("uploaderId") == "bob"]
    for asset_id in mine:
        mine_seen = [(e, d["status"]) for e, d in seen if d.get("assetId") == asset_id]
        assert mine_seen[-1] == ("status", "COMPLETED"), mine_seen
    # the whole stream ends once every asset it follows has ended
    with alice.stream("GET", "/v1/events", params={"assets": ",".join(mine)}) as reply:
        assert [e for e, _ in sse(reply)] == ["status", "status"]
    problem(alice.get("/v1/events", params={"assets": " , "}), 400)
    problem(alice.get("/v1/events", params={"assets": ",".join(f"a{i}" for i in range(101))}), 400)
    problem(alice.get("/v1/events"), 422)


def test_a_key_holds_only_so_many_event_streams_and_each_is_released_as_it_ends(
    tmp_path: Path, clip: Path
) -> None:
    with serve(tmp_path / "data", worker=False, max_event_streams=2) as served:
        alice, alices_other_key = served.client("alice"), served.client("alice")
        asset_id = upload(alice, clip)["assetId"]  # no worker: it stays PENDING, streams stay
        routes = [f"/v1/assets/{asset_id}/events", f"/v1/events?assets={asset_id}"]

        def opened(client: httpx.Client, route: str) -> httpx.Response:
            return client.send(client.build_request("GET", route), stream=True)

        held = [opened(alice, route) for route in routes]
        assert [r.status_code for r in held] == [200, 200]
        refused = opened(alice, routes[0])
        assert refused.headers["retry-after"] and "2 event streams" in refused.read().decode()
        problem(refused, 429)
        assert opened(alices_other_key, routes[0]).status_code == 200  # per key, not per server
        held.pop().close()

        def after_release() -> int:
            deadline = time.monotonic() + 10
            while (status := opened(alice, routes[1])).status_code == 429:
                assert time.monotonic() < deadline, "a closed stream was never released"
                time.sleep(0.1)
            held.append(status)
            return status.status_code

        assert after_release() == 200
        for reply in held:
            reply.close()
        held.clear()
        request = f"GET {routes[0]} HTTP/1.1\r\nHost: x\r\n{_auth(alice)}\r\n\r\n"
        for _ in range(6):  # clients gone before their stream began, or just after
            with socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1]))) as raw:
                raw.sendall(request.encode())
        assert after_release() == 200 and after_release() == 200  # nothing leaked


def _auth(client: httpx.Client) -> str:
    return f"Authorization: {client.headers['authorization']}"


# uploads (tus) ---------------------------------------------------------------------


def create(client: httpx.Client, length: int, **extra: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(filename="t.mp4")}
    return client.post("/v1/uploads", headers={**headers, **extra})


def test_tus_discovery_advertises_the_extensions_and_the_limit(served: Served) -> None:
    reply = served.client().options("/v1/uploads")
    assert reply.status_code == 204 and reply.headers["tus-version"] == "1.0.0"
    assert set(reply.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "expiration", "checksum",
    }  # fmt: skip
    assert int(reply.headers["tus-max-size"]) == served.api.app.settings.limits.max_file_size
    assert "sha1" in reply.headers["tus-checksum-algorithm"]


def test_a_tus_upload_resumes_at_the_servers_offset_and_becomes_an_asset(
    served: Served, clip: Path
) -> None:
    alice = served.client("alice")
    data = clip.read_bytes()
    created = create(alice, len(data))
    assert created.status_code == 201 and "upload-expires" in created.headers
    url = created.headers["location"]
    half = len(data) // 2
    assert (
        alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=data[:half]).status_code
        == 204
    )
    head = alice.head(url, headers=TUS)
    assert head.status_code == 200 and int(head.headers["upload-offset"]) == half
    assert head.headers["cache-control"] == "no-store" and "vodkit-asset-id" not in head.headers
    problem(
        alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=data[:10]), 409
    )  # overlaps
    problem(
        alice.patch(url, headers={**OFFSET, "Upload-Offset": str(half + 5)}, content=b"x"), 409
    )  # skips
    sha1 = base64.b64encode(hashlib.sha1(b"wrong").digest()).decode()
    problem(
        alice.patch(url, headers={**OFFSET, "Upload-Offset": str(half), "Upload-Checksum": f"sha1 {sha1}"},
                    content=data[half : half + 100]),
        460,
    )  # fmt: skip
    assert int(alice.head(url, headers=TUS).headers["upload-offset"]) == half  # nothing counted
    good = base64.b64encode(hashlib.sha1(data[half:]).digest()).decode()
    last = alice.patch(
        url, headers={**OFFSET, "Upload-Offset": str(half), "Upload-Checksum": f"sha1 {good}"},
        content=data[half:],
    )  # fmt: skip
    assert last.status_code == 204 and int(last.headers["upload-offset"]) == len(data)
    asset_id = last.headers["vodkit-asset-id"]
    assert alice.head(url, headers=TUS).headers["vodkit-asset-id"] == asset_id
    done = served.wait_for(alice, asset_id, "COMPLETED")
    assert done["filename"] == "t.mp4" and done["fileSize"] == len(data)


def test_tus_refuses_what_it_must(served: Served) -> None:
    alice, bob = served.client("alice"), served.client("bob")
    limit = served.api.app.settings.limits.max_file_size
    problem(create(alice, limit + 1), 413)
    problem(alice.post("/v1/uploads", headers={**TUS, "Upload-Length": "-1"}), 400)
    problem(alice.post("/v1/uploads", headers=TUS), 400)
    problem(alice.post("/v1/uploads", headers={"Upload-Length": "10"}), 412)
    problem(create(alice, 10, **{"Upload-Metadata": "filename !!not-base64!!"}), 400)
    problem(create(alice, 10, **{"Upload-Metadata": "bad key " + "x" * 10}), 400)
    url = create(alice, 10).headers["location"]
    problem(alice.patch(url, headers={**TUS, "Upload-Offset": "0"}, content=b"12345"), 415)
    problem(alice.patch(url, headers={**OFFSET}, content=b"12345"), 400)
    problem(alice.patch(url, headers={**OFFSET, "Upload-Offset": "0", "Upload-Checksum": "crc9 AAAA"},
                        content=b"1"), 400)  # fmt: skip
    problem(alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=b"x" * 11), 413)
    problem(bob.head(url, headers=TUS), 404)  # another uploader's upload is as absent
    problem(bob.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=b"1"), 404)
    problem(bob.delete(url, headers=TUS), 404)
    assert alice.delete(url, headers=TUS).status_code == 204
    problem(alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=b"1"), 404)
    problem(alice.head(url, headers=TUS), 404)
    problem(alice.head("/v1/uploads/..%2F..%2Fetc%2Fpasswd", headers=TUS), 404)


def test_a_concurrent_append_is_locked_out(served: Served) -> None:
    alice = served.client("alice")
    url = create(alice, 4 * 1024 * 1024).headers["location"]
    started = threading.Event()

    def slow_body() -> Iterator[bytes]:
        started.set()
        for _ in range(20):
            time.sleep(0.1)
            yield b"x" * 1024

    first: list[int] = []
    writer = threading.Thread(
        target=lambda: first.append(
            alice.patch(
                url, headers={**OFFSET, "Upload-Offset": "0"}, content=slow_body()
            ).status_code
        )
    )
    writer.start()
    started.wait(10)
    time.sleep(0.3)
    problem(alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=b"y"), 423)
    writer.join(30)
    assert first == [204]
    assert int(alice.head(url, headers=TUS).headers["upload-offset"]) == 20 * 1024


def test_unfinished_uploads_expire_and_their_parts_go(tmp_path: Path) -> None:
    with serve(tmp_path / "data", worker=False, upload_expiry=1) as served:
        alice = served.client("alice")
        url = create(alice, 100).headers["location"]
        alice.patch(url, headers={**OFFSET, "Upload-Offset": "0"}, content=b"x" * 10)
        time.sleep(1.2)
        problem(alice.head(url, headers=TUS), 410)
        problem(alice.patch(url, headers={**OFFSET, "Upload-Offset": "10"}, content=b"x"), 410)
        assert served.api.uploads.sweep() == 1
        assert not list((tmp_path / "data" / "tus").iterdir())
        problem(alice.head(url, headers=TUS), 404)


# playback --------------------------------------------------------------------------


def test_playback_tokens_and_paths_are_checked(served: Served, clips: dict[str, Path]) -> None:
    alice = served.client("alice")
    one = served.wait_for(alice, upload(alice, clips["small"], "one.mp4")["assetId"], "COMPLETED")
    two = served.wait_for(alice, upload(alice, clips["tiny"], "two.mp4")["assetId"], "COMPLETED")
    anyone = served.client()
    token = one["playback"]["hls"].split("/")[5]
    other = two["playback"]["hls"].split("/")[5]
    base = f"/play/{one['assetId']}"
    assert anyone.get(f"{base}/{token}/stream/master.m3u8").status_code == 200
    problem(anyone.get(f"{base}/{other}/stream/master.m3u8"), 403)  # another asset's token
    problem(anyone.get(f"{base}/1000.{token.split('.')[1]}/stream/master.m3u8"), 403)  # expired
    problem(anyone.get(f"{base}/garbage/stream/master.m3u8"), 403)
    host, port = served.url.removeprefix("http://").split(":")
    for path in ("../" + two["assetId"] + "/stream/master.m3u8", "%2e%2e/%2e%2e/etc/passwd",
                 "stream/%2e%2e/%2e%2e/x", "stream/../../../etc/passwd", "stream//master.m3u8",
                 "..%2f..%2fsecret.key", "secret.key", "stream/nothing.m3u8"):  # fmt: skip
        raw = http.client.HTTPConnection(host, int(port), timeout=10)  # sends the path as it is
        raw.request("GET", f"{base}/{token}/{path}")
        reply = raw.getresponse()
        assert reply.status == 404, (path, reply.status)
        assert reply.getheader("content-type") == "application/problem+json"
        raw.close()


# problems and operations -------------------------------------------------------------


def test_every_error_is_problem_json(served: Served) -> None:
    alice = served.client("alice")
    problem(alice.get("/v1/nowhere"), 404)
    problem(alice.put("/v1/assets"), 405)
    problem(alice.get("/v1/assets", params={"limit": "many"}), 422)
    problem(alice.post("/v1/dlq/redrive", json={"ids": "x"}), 403)  # not an admin, first
    admin = served.client("root", admin=True)
    problem(
        admin.post(
            "/v1/dlq/redrive", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
    )
    assert admin.post("/v1/dlq/redrive", json={}).json() == {"redriven": 0}
    problem(admin.post("/v1/dlq/redrive", json={"queue": "nope"}), 404)
    assert admin.get("/v1/dlq").json() == {"items": []}


def test_a_megabyte_of_headers_is_refused_and_the_server_goes_on(served: Served) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    headers = b"".join(b"X-Big-%d: %s\r\n" % (i, b"y" * 1000) for i in range(1024))
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"GET /v1/assets HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        status_line = raw.recv(100).split(b"\r\n")[0]
    assert status_line.startswith(b"HTTP/1.1 4"), status_line  # the server's parser refuses it
    assert served.client("alice").get("/v1/assets").status_code == 200


def test_health_readiness_and_metrics(served: Served, clip: Path) -> None:
    anyone = served.client()
    assert anyone.get("/healthz").json()["status"] == "ok"
    ready = anyone.get("/readyz").json()
    assert ready["status"] == "ok" and set(ready["checks"]) == {
        "catalog",
        "queues",
        "uploads",
        "outputs",
    }
    alice = served.client("alice")
    served.wait_for(alice, upload(alice, clip)["assetId"], "COMPLETED")
    text = anyone.get("/metrics").text
    for name in ("vodkit_http_requests_total", "vodkit_http_request_duration_seconds_bucket",
                 'vodkit_assets{status="COMPLETED"} 1.0', "vodkit_queue_depth",
                 "vodkit_queue_oldest_message_age_seconds", "vodkit_dead_letters",
                 "vodkit_transcode_realtime_factor_bucket", "vodkit_processed_assets_total"):  # fmt: skip
        assert name in text, name
    assert 'route="/v1/assets/{asset_id}"' in text  # by route, not by path


def test_metrics_count_the_assets_every_process_finished(tmp_path: Path, clip: Path) -> None:
    """Another process's worker (another App over the same data) finishes the assets: this
    server's /metrics counts them all the same, from the catalog, and only once."""
    data = tmp_path / "data"
    with serve(data, worker=False) as served:
        alice = served.client("alice")
        notes = tmp_path / "notes.txt"
        notes.write_text("not a video\n" * 20)
        good = upload(alice, clip)["assetId"]
        bad = upload(alice, notes, "notes.mp4")["assetId"]
        other = bootstrap(load_settings(EmbeddedSettings, data_dir=data, retry_backoff=0))
        other.processing.worker(watch=False).drain()  # type: ignore[attr-defined]
        served.wait_for(alice, good, "COMPLETED")
        served.wait_for(alice, bad, "FAILED")
        anyone = served.client()
        text = anyone.get("/metrics").text
        for line in ("vodkit_uploads_accepted_total 2.0", "vodkit_processing_started_total 1.0",
                     "vodkit_processed_assets_total 1.0", "vodkit_failed_assets_total 1.0",
                     'vodkit_assets{status="COMPLETED"} 1.0'):  # fmt: skip
            assert line in text.splitlines(), line
        assert alice.delete(f"/v1/assets/{good}").status_code == 204
        after = anyone.get("/metrics").text.splitlines()
        assert "vodkit_processed_assets_total 1.0" in after  # a counter: it completed once


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("../../etc/passwd", "passwd"), ("..%2f..%2fx.mp4", "%2f..%2fx.mp4"),
     ("C:\\\\temp\\\\clip.mp4", "clip.mp4"), (".hidden.mp4", "hidden.mp4"),
     ("<img src=x onerror=alert(1)>.mp4", "<img src=x onerror=alert(1)>.mp4"),
     ("a\u0000b\nc.mp4", "abc.mp4"), ("", "upload")],
)  # fmt: skip
def test_a_file_name_is_untrusted(served: Served, tmp_path: Path, sent: str, stored: str) -> None:
    alice = served.client("alice")
    data = tmp_path / "x.bin"
    data.write_bytes(b"not a video")
    if not sent:
        problem(alice.post("/v1/assets", params={"filename": sent}, content=b"x"), 422)
        return
    created = alice.post("/v1/assets", params={"filename": sent}, content=data.read_bytes())
    assert created.status_code == 201, created.text
    assert created.json()["filename"] == stored
    keys = [o.key for o in served.api.app.uploads.list("uploads/")]
    assert keys and all(k.startswith("uploads/alice/") and k.endswith("/" + stored) for k in keys)
    tus = create(alice, 3, **{"Upload-Metadata": metadata(filename=sent)})
    done = alice.patch(
        tus.headers["location"], headers={**OFFSET, "Upload-Offset": "0"}, content=b"abc"
    )
    assert done.status_code == 204 and done.headers["vodkit-asset-id"]


# the web page's session ------------------------------------------------------------


def test_a_key_is_exchanged_for_an_httponly_session_and_changes_need_its_csrf_token(
    served: Served, clip: Path
) -> None:
    record, key = served.api.keys.create("alice")
    browser = served.client()
    problem(browser.post("/v1/session", json={"key": "vk_nope"}), 401)
    opened = browser.post("/v1/session", json={"key": key})
    assert opened.status_code == 200 and opened.json()["uploaderId"] == "alice"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and key not in cookie
    csrf = opened.json()["csrfToken"]
    assert browser.get("/v1/session").json()["csrfToken"] == csrf
    assert browser.get("/v1/assets").status_code == 200  # the cookie is enough to read
    problem(browser.post("/v1/assets", params={"filename": "c.mp4"}, content=b"x"), 403)
    problem(browser.post("/v1/assets", params={"filename": "c.mp4"}, content=b"x",
                         headers={"X-CSRF-Token": "wrong"}), 403)  # fmt: skip
    made = browser.post("/v1/assets", params={"filename": "c.mp4"}, content=clip.read_bytes(),
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert made.status_code == 201
    session = browser.cookies["vodkit_session"]
    assert browser.delete("/v1/session").status_code == 204
    problem(browser.get("/v1/assets"), 401)  # signed out
    copied = served.client()  # a copy of the cookie, kept from before the sign-out
    copied.cookies.set("vodkit_session", session)
    problem(copied.get("/v1/assets"), 401)  # the session ended on the server too
    again = served.client()
    again.post("/v1/session", json={"key": key})
    served.api.keys.revoke(record.key_id)
    problem(again.get("/v1/assets"), 401)  # revoking the key ends its sessions


def test_the_session_probe_answers_signed_out_without_an_error(served: Served) -> None:
    """The page asks on every load: a visitor who has not signed in (or whose session ended)
    is an answer, not a 401 (which a browser logs as an error); a key that is not valid is."""
    browser = served.client()
    reply = browser.get("/v1/session")
    assert reply.status_code == 200 and reply.json()["signedIn"] is False
    record, key = served.api.keys.create("alice")
    opened = browser.post("/v1/session", json={"key": key}).json()
    assert opened["signedIn"] is True and opened["uploaderId"] == "alice"
    assert browser.get("/v1/session").json()["signedIn"] is True
    served.api.keys.revoke(record.key_id)  # its sessions end
    ended = browser.get("/v1/session")
    assert ended.status_code == 200 and ended.json() == {
        "signedIn": False, "admin": False, "csrfToken": ""
    }  # fmt: skip
    assert "vodkit_session=" in ended.headers["set-cookie"]  # the stale cookie is dropped
    problem(browser.get("/v1/session", headers={"Authorization": "Bearer vk_nope"}), 401)


def test_without_a_built_page_the_root_says_how_to_build_it(served: Served) -> None:
    from vodkit.entrypoints.http.page import BUNDLE

    reply = served.client().get("/")
    if (BUNDLE / "index.html").is_file():
        assert reply.status_code == 200
        assert "script-src 'self'" in reply.headers["content-security-policy"]
        assert "unsafe-inline" not in reply.headers["content-security-policy"]
    else:
        assert reply.status_code == 503 and "make web" in reply.text
    assert served.client().get("/healthz").status_code == 200  # the API is served either way
