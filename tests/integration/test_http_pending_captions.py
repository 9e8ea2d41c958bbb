"""Captions added over the real HTTP API before the asset completes (PENDING, PROCESSING,
FAILED): kept, published with the asset beside its source's own text tracks (the MKV's
English and French), and removed with it. The worker is driven by hand, so each caption
lands at the status the test names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_server import Served, serve
from tests.captioned import captioned_sources
from tests.integration.test_http_api import problem, upload

pytestmark = pytest.mark.integration
DE = b"1\n00:00:02,000 --> 00:00:03,000\nGuten Tag\n"
EN = b"WEBVTT\n\n00:00:00.600 --> 00:00:01.400\nAdded while processing\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("pending") / "data", worker=False) as running:
        yield running


def _status(client: Any, asset_id: str) -> str:
    return str(client.get(f"/v1/assets/{asset_id}").json()["status"])


def _updates(served: Served, asset_id: str) -> int:
    events = served.api.app.catalog.events_after(0, limit=1000)  # type: ignore[attr-defined]
    return sum(e.type == "asset.updated" and e.asset_id == asset_id for e in events)


def test_captions_put_before_completion_are_published_with_the_asset_and_deleted_with_it(
    served: Served, tmp_path: Path
) -> None:
    alice = served.client("alice")
    worker = served.api.app.processing.worker(watch=False)
    source = captioned_sources(tmp_path)["mkv"]  # embedded: SubRip eng, ASS fra
    asset_id = upload(alice, source, "captioned.mkv")["assetId"]
    base = f"/v1/assets/{asset_id}/captions"

    assert _status(alice, asset_id) == "PENDING"
    assert alice.put(f"{base}/de", content=DE).status_code == 201
    worker.consumers[0].poll()  # the ingest only: probed, planned, the transcode queued
    assert _status(alice, asset_id) == "PROCESSING"
    added = alice.put(f"{base}/en", params={"label": "English (added)"}, content=EN)
    assert added.status_code == 201, added.text
    assert "Added while processing" in alice.get(f"{base}/en").text  # readable already
    asset = alice.get(f"/v1/assets/{asset_id}").json()
    assert asset["status"] == "PROCESSING" and asset["playback"] is None
    text = [(t["language"], t["source"]) for t in asset["tracks"] if t["type"] == "text"]
    assert text == [("en", "embedded"), ("fr", "embedded"), ("de", "sidecar"), ("en", "sidecar")]
    problem(alice.get(f"{base}/fr"), 404)  # the source's own: once it is published

    worker.drain()  # the transcode, its publish and the completion
    asset = alice.get(f"/v1/assets/{asset_id}").json()
    assert asset["status"] == "COMPLETED", asset
    text = [(t["language"], t["source"]) for t in asset["tracks"] if t["type"] == "text"]
    assert text == [("en", "embedded"), ("fr", "embedded"), ("de", "sidecar"), ("en", "sidecar")]
    player = served.client()  # no key: the signed URLs alone
    master = player.get(asset["playback"]["hls"]).text
    mpd = player.get(asset["playback"]["dash"]).text
    for uri in ("../captions/en.m3u8", "../captions/fr.m3u8", "../captions/sidecar/de.m3u8",
                "../captions/sidecar/en.m3u8"):  # fmt: skip
        assert f'URI="{uri}"' in master, master
    assert master.count("TYPE=SUBTITLES") == 4 and "English (added)" in master
    assert mpd.count('contentType="text"') == 4 and 'lang="de"' in mpd
    assert "captions/sidecar/en.vtt" in mpd
    captions = asset["playback"]["captions"]
    assert sorted(captions) == ["de", "en", "fr"]
    assert "Added while processing" in player.get(captions["en"]).text  # the added English
    assert "Guten Tag" in player.get(captions["de"]).text
    assert "Bonjour" in player.get(captions["fr"]).text
    stream = asset["playback"]["hls"].rsplit("/stream/", 1)[0]
    assert "Hello" in player.get(f"{stream}/captions/en.vtt").text  # the source's English
    assert _updates(served, asset_id) == 2

    outputs = served.api.app.settings.data_dir / "outputs" / asset_id
    assert (outputs / "captions" / "sidecar" / "de.vtt").is_file()
    assert alice.delete(f"/v1/assets/{asset_id}").status_code == 204
    assert not [p for p in outputs.rglob("*") if p.is_file()]  # the captions went too


def test_a_caption_put_on_a_failed_asset_is_kept(served: Served, tmp_path: Path) -> None:
    alice = served.client("alice")
    worker = served.api.app.processing.worker(watch=False)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all\n" * 100)
    asset_id = upload(alice, junk, "junk.mp4")["assetId"]
    worker.drain()
    assert _status(alice, asset_id) == "FAILED"
    base = f"/v1/assets/{asset_id}/captions"
    assert alice.put(f"{base}/de", content=DE).status_code == 201
    asset = alice.get(f"/v1/assets/{asset_id}").json()
    assert asset["status"] == "FAILED"
    assert [(t["language"], t["source"]) for t in asset["tracks"]] == [("de", "sidecar")]
    assert [t["language"] for t in alice.get(base).json()] == ["de"]
    assert alice.delete(f"{base}/de").status_code == 204
    assert alice.get(base).json() == []
    problem(served.client("mallory").put(f"{base}/de", content=DE), 404)
