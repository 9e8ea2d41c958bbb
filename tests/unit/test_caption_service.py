"""Sidecar captions on fakes: added, replaced and removed on a COMPLETED asset by rewriting
the manifests only (WebVTT and playlists first, master and MPD last); added while the
asset processes, kept and published with it, whatever the interleaving with its completion;
two changes at once both kept."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import BinaryIO

import pytest

from tests.unit.test_subtitles import MASTER, MPD
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.storage.base import ObjectInfo
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.domain.asset import Asset, Job, JobState
from vodkit.domain.captions import InvalidCaptions
from vodkit.domain.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from vodkit.domain.tracks import TextKind, Track, TrackLimits, Tracks, TrackSource, TrackType
from vodkit.services.captions import CaptionService, sidecar
from vodkit.services.playback import PlaybackTokens

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SRT = b"1\n00:00:01,000 --> 00:00:02,500\nHello <script>alert(1)</script>\n"
EMBEDDED = Track(TrackType.TEXT, "en", "English", kind=TextKind.SUBTITLES, codec="subrip", index=2)


class Recording(MemoryObjectStore):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []
        self.deleted: list[str] = []

    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        self.written.append(key)
        return super().put_stream(key, stream)

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        super().delete(key)


def _asset(catalog: MemoryCatalog, store: Recording, *, complete: bool = True) -> Asset:
    asset = Asset.new(
        asset_id="a",
        uploader_id="u",
        source_key="uploads/u/a.mp4",
        source_bucket="b",
        source_version="v",
        filename="a.mp4",
        file_size=1,
        now=T0,
    )
    catalog.create(asset)
    job = Job("j", JobState.SUBMITTED, request={})
    catalog.start_processing(
        "a", [job], formats=["hls"], renditions=[], now=T0, duration=8.0, tracks=Tracks((EMBEDDED,))
    )
    store.put_stream("a/stream/master.m3u8", io.BytesIO(MASTER.encode()))
    store.put_stream("a/stream/manifest.mpd", io.BytesIO(MPD.encode()))
    store.put_stream("a/stream/720p/seg_00001.m4s", io.BytesIO(b"media"))
    if complete:
        outputs = {"hls": "a/stream/master.m3u8", "dash": "a/stream/manifest.mpd"}
        catalog.complete_job("a", "j", outputs, T0)
    store.written.clear()
    found = catalog.get("a")
    assert found is not None
    return found


@pytest.fixture
def parts() -> tuple[MemoryCatalog, Recording, CaptionService]:
    catalog, store = MemoryCatalog(), Recording()
    return catalog, store, CaptionService(store, catalog, clock=lambda: T0)


def _read(store: Recording, key: str) -> str:
    with store.open(key) as stream:
        return stream.read().decode()


def test_adding_republishes_the_manifests_last_and_records_the_track(
    parts: tuple[MemoryCatalog, Recording, CaptionService],
) -> None:
    catalog, store, service = parts
    asset = _asset(catalog, store)
    track = sidecar("en", label="English (SDH)\n", kind=TextKind.CAPTIONS, default=True)
    added = service.put(asset, track, SRT)
    assert added.created and added.track.name == "English (SDH)"
    # the source's English keeps en.vtt (not rewritten); the sidecar one has its own place
    assert store.written == [
        "a/captions/sidecar/en.vtt",
        "a/captions/en.m3u8",
        "a/captions/sidecar/en.m3u8",
        "a/stream/master.m3u8",
        "a/stream/manifest.mpd",
    ]
    vtt = _read(store, "a/captions/sidecar/en.vtt")
    assert "&lt;script&gt;" in vtt and "<script>" not in vtt
    master = _read(store, "a/stream/master.m3u8")
    assert master.count("TYPE=SUBTITLES") == 2 and "English (SDH)" in master
    assert 'lang="en"' in _read(store, "a/stream/manifest.mpd")
    stored = catalog.get("a")
    assert stored is not None and stored.tracks == (EMBEDDED, track)
    assert [e.type for e in catalog.outbox][-1] == "asset.updated"
    assert service.text(stored, "en") == vtt.encode()  # its sidecar, before the embedded one
    assert [t.source for t in service.list(stored)] == [TrackSource.EMBEDDED, TrackSource.SIDECAR]
    urls = PlaybackTokens(b"s", clock=lambda: 0.0).urls(stored, "https://x/play")
    assert urls is not None and urls["captions"]["en"].endswith("/captions/sidecar/en.vtt")


def test_replacing_keeps_the_key_and_removing_deletes_its_files_after_the_manifests(
    parts: tuple[MemoryCatalog, Recording, CaptionService],
) -> None:
    catalog, store, service = parts
    asset = _asset(catalog, store)
    service.put(asset, sidecar("fr"), SRT)
    asset = catalog.get("a") or asset
    replaced = service.put(
        asset, sidecar("fr", label="Français 2"), b"WEBVTT\n\n00:01.000 --> 00:02.000\nSalut\n"
    )
    asset = catalog.get("a") or asset
    assert not replaced.created and [t.name for t in asset.tracks] == ["English", "Français 2"]
    assert "Salut" in _read(store, "a/captions/sidecar/fr.vtt")
    store.written.clear()
    service.remove(asset, "fr")
    assert store.written[-2:] == ["a/stream/master.m3u8", "a/stream/manifest.mpd"]
    assert store.deleted == ["a/captions/sidecar/fr.vtt", "a/captions/sidecar/fr.m3u8"]
    assert "fr.m3u8" not in _read(store, "a/stream/master.m3u8")
    asset = catalog.get("a") or asset
    assert asset.tracks == (EMBEDDED,)
    assert _read(store, "a/stream/720p/seg_00001.m4s") == "media"
    assert [e.type for e in catalog.outbox][-3:] == ["asset.updated"] * 3
    with pytest.raises(NotFound):
        service.remove(asset, "en")  # the source's own track is not a sidecar


def test_hostile_captions_are_refused_before_anything_is_written(
    parts: tuple[MemoryCatalog, Recording, CaptionService],
) -> None:
    catalog, store, service = parts
    asset = _asset(catalog, store, complete=False)
    with pytest.raises(InvalidCaptions) as bad:
        service.put(asset, sidecar("en"), b"#EXTM3U\n#EXT-X-VERSION:3\n")
    assert bad.value.line == 1
    with pytest.raises(InvalidCaptions):
        service.put(asset, sidecar("en"), bytes(range(256)))
    with pytest.raises(InvalidInput, match="BCP 47"):
        service.put(asset, sidecar("en_US"), SRT)
    small = CaptionService(store, catalog, limits=TrackLimits(max_caption_bytes=10))
    with pytest.raises(LimitExceeded):
        small.put(asset, sidecar("en"), SRT)
    few = CaptionService(store, catalog, limits=TrackLimits(max_text_tracks=1))
    with pytest.raises(Conflict, match="limit"):
        few.put(asset, sidecar("fr"), SRT)  # the source's English is the one allowed
    assert store.written == [] and catalog.get("a") == asset
