"""Sidecar captions over the real HTTP API on a COMPLETED asset of a real clip: added,
replaced and removed by republishing the manifests only (the segments' bytes and mtimes
stay), an ``asset.updated`` each time; hostile bodies, sizes, tags and keys refused."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.api_server import Served, serve
from tests.integration.test_http_api import problem, upload
from tests.integration.test_webhooks_http import Receiver, subscribe, wait
from vodkit.entrypoints.cli import app

pytestmark = pytest.mark.integration
SRT = b"1\n00:00:00,500 --> 00:00:01,500\nHello <script>alert(1)</script> <b>bold</b>\n"
VTT = b"WEBVTT\n\n00:00.500 --> 00:01.500\nBonjour\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("captions") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def completed(served: Served, clips: dict[str, Path]) -> tuple[Any, str]:
    alice = served.client("alice")
    asset_id = upload(alice, clips["small"])["assetId"]
    served.wait_for(alice, asset_id, "COMPLETED")
    return alice, asset_id


def _media(served: Served, asset_id: str) -> dict[Path, tuple[bytes, int]]:
    root = served.api.app.settings.data_dir / "outputs" / asset_id
    files = [p for p in root.rglob("*") if p.suffix in (".m4s", ".mp4", ".jpg")]
    assert files
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def _manifests(client: Any, asset: dict[str, Any]) -> tuple[str, str]:
    return client.get(asset["playback"]["hls"]).text, client.get(asset["playback"]["dash"]).text


def _updates(served: Served, asset_id: str) -> int:
    events = served.api.app.catalog.events_after(0, limit=1000)  # type: ignore[attr-defined]
    return sum(e.type == "asset.updated" and e.asset_id == asset_id for e in events)


def _delivered(served: Served, receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """The ``asset.updated`` webhooks received, once there are ``count`` of them."""

    def updated() -> list[dict[str, Any]]:
        served.api.webhooks.pump()
        found = [r for r in receiver.received if r["type"] == "asset.updated"]
        return found if len(found) >= count else []

    return wait(updated, timeout=20)  # type: ignore[no-any-return]


def test_added_replaced_and_removed_captions_republish_only_the_manifests(
    served: Served, completed: tuple[Any, str]
) -> None:
    alice, asset_id = completed
    base = f"/v1/assets/{asset_id}/captions"
    media = _media(served, asset_id)
    before = _manifests(alice, alice.get(f"/v1/assets/{asset_id}").json())
    assert "TYPE=SUBTITLES" not in before[0]
    receiver = Receiver()
    receiver.secret = subscribe(served, alice, receiver.url, ["asset.updated"])["secret"]

    added = alice.put(f"{base}/en", params={"label": "English", "kind": "captions"}, content=SRT)
    assert added.status_code == 201, added.text
    assert added.json() == {
        "type": "text", "language": "en", "name": "English", "default": False,
        "forced": False, "kind": "captions", "roles": ["caption"], "channels": None,
        "source": "sidecar",
    }  # fmt: skip
    asset = alice.get(f"/v1/assets/{asset_id}").json()
    first = _manifests(alice, asset)
    assert "TYPE=SUBTITLES" in first[0] and 'LANGUAGE="en"' in first[0]
    assert 'contentType="text"' in first[1] and 'lang="en"' in first[1]
    assert [t["source"] for t in asset["tracks"] if t["type"] == "text"] == ["sidecar"]
    vtt = alice.get(f"{base}/en")
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert "&lt;script&gt;" in vtt.text and "<script>" not in vtt.text and "<b>bold</b>" in vtt.text
    played = served.client().get(asset["playback"]["captions"]["en"])  # signed, no header
    assert played.status_code == 200 and played.text == vtt.text
    assert _updates(served, asset_id) == 1
    hook = _delivered(served, receiver, 1)[0]["data"]  # signed, checked by the receiver
    assert hook["assetId"] == asset_id and hook["tracks"][-1]["source"] == "sidecar"

    replaced = alice.put(f"{base}/en", params={"label": "English SDH"}, content=VTT)
    assert replaced.status_code == 200 and replaced.json()["kind"] == "subtitles"
    second = _manifests(alice, alice.get(f"/v1/assets/{asset_id}").json())
    assert second != first and "English SDH" in second[0]
    assert "Bonjour" in alice.get(f"{base}/en").text
    assert [t["name"] for t in alice.get(base).json()] == ["English SDH"]
    assert _updates(served, asset_id) == 2
    assert _delivered(served, receiver, 2)[1]["data"]["tracks"][-1]["name"] == "English SDH"

    assert alice.delete(f"{base}/en").status_code == 204
    asset = alice.get(f"/v1/assets/{asset_id}").json()
    master, mpd = _manifests(alice, asset)
    assert master == before[0] and asset["playback"]["captions"] == {}
    assert 'contentType="text"' not in mpd and mpd != second[1]
    problem(alice.get(f"{base}/en"), 404)
    problem(alice.delete(f"{base}/en"), 404)
    assert alice.get(base).json() == []
    assert _updates(served, asset_id) == 3
    assert [t["type"] for t in _delivered(served, receiver, 3)[2]["data"]["tracks"]] == ["audio"]
    receiver.close()
    assert _media(served, asset_id) == media  # nothing re-encoded: same bytes, same mtimes


def test_hostile_captions_are_refused(served: Served, completed: tuple[Any, str]) -> None:
    alice, asset_id = completed
    base = f"/v1/assets/{asset_id}/captions"
    updates = _updates(served, asset_id)
    playlist = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:2.0,\nseg.ts\n"
    assert "line 1" in problem(alice.put(f"{base}/en", content=playlist), 422)["detail"]
    problem(alice.put(f"{base}/en", content=bytes(range(256)) * 4), 422)
    assert "BCP 47" in problem(alice.put(f"{base}/en_US", content=SRT), 400)["detail"]
    problem(alice.get(f"{base}/not-a-tag!"), 400)
    problem(alice.put(f"{base}/en", params={"kind": "karaoke"}, content=SRT), 422)
    mallory = served.client("mallory")
    for method, path in (("GET", base), ("GET", f"{base}/en"), ("PUT", f"{base}/en"),
                         ("DELETE", f"{base}/en")):  # fmt: skip
        problem(mallory.request(method, path, content=SRT if method == "PUT" else None), 404)
    assert alice.get(base).json() == [] and _updates(served, asset_id) == updates


def test_a_gigabyte_content_length_is_refused_before_a_byte_is_read(
    served: Served, completed: tuple[Any, str]
) -> None:
    alice, asset_id = completed
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT /v1/assets/{asset_id}/captions/en HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {alice.headers['authorization']}\r\n"
                "Content-Length: 1073741824\r\n\r\n"
            ).encode()
        )  # and not one byte of the body
        reply = b""
        # the whole problem, answered while no body was sent (recv times out otherwise)
        while b"}" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    text = reply.decode(errors="replace")
    assert text.startswith("HTTP/1.1 413"), text
    assert "application/problem+json" in text and "10485760 bytes" in text

    def unsized() -> Iterator[bytes]:  # chunked: no Content-Length to refuse it by
        yield SRT
        for _ in range(11):
            yield b"\n" * 1024**2

    problem(alice.put(f"/v1/assets/{asset_id}/captions/en", content=unsized()), 413)
    assert alice.get(f"/v1/assets/{asset_id}/captions").json() == []


def test_the_cli_adds_lists_and_removes_captions_as_the_api_does(
    served: Served, completed: tuple[Any, str], tmp_path: Path
) -> None:
    alice, asset_id = completed
    srt = tmp_path / "de.srt"
    srt.write_bytes(SRT)
    env = {"VODKIT_DATA_DIR": str(served.api.app.settings.data_dir)}

    def vodkit(*args: str) -> Any:
        done = CliRunner().invoke(app, list(args), prog_name="vodkit", env=env)
        assert done.exit_code == 0, (done.output, done.exception)
        return json.loads(done.output)

    added = vodkit("captions", "add", asset_id, str(srt), "--lang", "de", "--label", "Deutsch",
                   "--kind", "captions", "--default", "--json")  # fmt: skip
    assert added["created"] and added["kind"] == "captions" and added["default"]
    assert alice.get(f"/v1/assets/{asset_id}/captions/de").text.startswith("WEBVTT")
    listed = vodkit("captions", "list", asset_id, "--json")["captions"]
    assert [(t["language"], t["source"]) for t in listed] == [("de", "sidecar")]
    master = alice.get(alice.get(f"/v1/assets/{asset_id}").json()["playback"]["hls"]).text
    assert 'LANGUAGE="de"' in master and "DEFAULT=YES" in master
    assert vodkit("captions", "remove", asset_id, "de", "--json") == {
        "assetId": asset_id, "removed": "de"
    }  # fmt: skip
    assert vodkit("captions", "list", asset_id, "--json") == {"captions": []}
