"""Captions added before an asset completes: kept through every transition, published with
it by the status processor, and not lost when a change lands between the transcode's
publish and COMPLETED; two changes at once both kept."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

import pytest

from tests.unit.test_caption_service import EMBEDDED, SRT, T0, Recording, _asset, _read
from tests.unit.test_subtitles import MASTER as SOURCE_MASTER
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.storage.base import ObjectInfo
from vodkit.domain.asset import AssetError, AssetStatus, Job, JobState
from vodkit.domain.errors import ObjectNotFound
from vodkit.domain.events import AssetStatusChanged, JobStateChanged
from vodkit.domain.tracks import Track, Tracks, TrackSource
from vodkit.services.captions import CaptionService, sidecar
from vodkit.services.status import StatusProcessor

OUTPUTS = {"hls": "a/stream/master.m3u8", "dash": "a/stream/manifest.mpd"}
MASTER = "a/stream/master.m3u8"
FR = b"1\n00:00:03,000 --> 00:00:04,000\nBonjour\n"


class Hooked(Recording):
    """A store that runs ``hook`` once, just before a write of ``key`` lands (after ``skip``
    writes of it)."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[], None] | None = None
        self.key, self.skip = MASTER, 0

    def put_stream(self, key: str, stream: BinaryIO) -> ObjectInfo:
        if key == self.key and self.hook:
            if self.skip:
                self.skip -= 1
            else:
                hook, self.hook = self.hook, None
                hook()
        return super().put_stream(key, stream)


def _parts() -> tuple[MemoryCatalog, Hooked, CaptionService, StatusProcessor]:
    catalog, store = MemoryCatalog(), Hooked()
    service = CaptionService(store, catalog, clock=lambda: T0)
    processor = StatusProcessor(
        catalog=catalog, bus=RecordingEventBus(), clock=lambda: T0, captions=service
    )
    return catalog, store, service, processor


def _complete(processor: StatusProcessor) -> None:
    processor.handle(
        JobStateChanged(job_id="j", status=JobState.COMPLETE, asset_id="a", outputs=OUTPUTS)
    )


def _sidecars(catalog: MemoryCatalog) -> list[str]:
    asset = catalog.get("a")
    assert asset is not None
    return [t.language for t in asset.tracks if t.source is TrackSource.SIDECAR]


def test_a_caption_added_while_processing_is_kept_and_published_with_the_asset() -> None:
    catalog, store, service, processor = _parts()
    asset = _asset(catalog, store, complete=False)
    added = service.put(asset, sidecar("fr", label="Français"), FR)
    assert added.created and store.written == ["a/captions/sidecar/fr.vtt"]  # no manifest yet
    assert "Bonjour" in service.text(catalog.get("a") or asset, "fr").decode()
    assert [e.type for e in catalog.outbox][-1] == "asset.updated"
    # the transcode records the tracks it kept: the sidecar stays
    catalog.record_renditions("a", "j", [], T0, Tracks((EMBEDDED,)))
    assert _sidecars(catalog) == ["fr"]
    bus = processor.bus
    assert isinstance(bus, RecordingEventBus)
    shown: list[str] = []
    bus.subscribe(AssetStatusChanged, lambda e: shown.append(_read(store, MASTER)))
    _complete(processor)
    stored = catalog.get("a")
    assert stored is not None and stored.status is AssetStatus.COMPLETED
    assert 'LANGUAGE="fr"' in shown[0]  # in the manifests when COMPLETED is announced
    assert "../captions/sidecar/fr.m3u8" in _read(store, MASTER)
    assert "captions/sidecar/fr.vtt" in _read(store, "a/stream/manifest.mpd")
    manifests = [k for k in store.written if k.endswith((".m3u8", ".mpd"))]
    assert manifests[-2:] == [MASTER, "a/stream/manifest.mpd"]  # manifests last


@pytest.mark.parametrize("writes", [0, 1], ids=["before-COMPLETED", "after-COMPLETED"])
def test_a_caption_added_between_the_publish_and_completed_is_not_lost(writes: int) -> None:
    """The completion reads the tracks (no French), the caption lands (its caller saw the
    asset PROCESSING) and publishes itself if the asset is COMPLETED by then, then the
    completion's stale manifests land: it reads the tracks again and writes them again."""
    catalog, store, service, processor = _parts()
    asset = _asset(catalog, store, complete=False)  # the caller saw it PROCESSING
    service.put(asset, sidecar("de"), SRT)  # one added earlier: the completion settles
    store.skip = writes  # the master's first write is before COMPLETED, its second after
    store.hook = lambda: service.put(asset, sidecar("fr"), FR)
    _complete(processor)
    assert store.hook is None  # it ran in the window
    assert _sidecars(catalog) == ["de", "fr"]
    master = _read(store, MASTER)
    assert 'LANGUAGE="fr"' in master and 'LANGUAGE="de"' in master
    assert 'lang="fr"' in _read(store, "a/stream/manifest.mpd")


def test_a_caption_removed_between_the_publish_and_completed_is_gone_from_the_manifests() -> None:
    catalog, store, service, processor = _parts()
    asset = _asset(catalog, store, complete=False)
    service.put(asset, sidecar("fr"), FR)
    store.hook = lambda: service.remove(catalog.get("a") or asset, "fr")
    _complete(processor)
    assert store.hook is None and _sidecars(catalog) == []
    assert "sidecar" not in _read(store, MASTER)
    assert "sidecar" not in _read(store, "a/stream/manifest.mpd")
    assert "a/captions/sidecar/fr.vtt" in store.deleted


def test_two_changes_at_once_both_stay() -> None:
    """Each caller holds the asset as it was before either change."""
    catalog, store, service, _ = _parts()
    asset = _asset(catalog, store)
    service.put(asset, sidecar("fr"), FR)
    service.put(asset, sidecar("de"), SRT)
    assert _sidecars(catalog) == ["fr", "de"]
    master = _read(store, MASTER)
    assert 'LANGUAGE="fr"' in master and 'LANGUAGE="de"' in master
    service.remove(asset, "fr")  # the stale asset knows no German: it stays
    assert _sidecars(catalog) == ["de"]


def test_sidecars_outlive_a_failure_a_retry_and_a_redelivered_job() -> None:
    catalog, store, service, processor = _parts()
    asset = _asset(catalog, store, complete=False)
    service.put(asset, sidecar("fr"), FR)
    catalog.fail("a", AssetError("E", "boom"), T0, job_id="j")
    assert _sidecars(catalog) == ["fr"]
    service.put(catalog.get("a") or asset, sidecar("de"), SRT)  # FAILED: kept, for a retry
    catalog.retry("a", T0)
    other = Track(EMBEDDED.type, "es", "Español", codec="subrip", index=3)
    catalog.start_processing(
        "a", [Job("j2", JobState.SUBMITTED)], formats=["hls"], renditions=[], now=T0,
        duration=8.0, tracks=Tracks((EMBEDDED, other)),
    )  # fmt: skip
    stored = catalog.get("a")
    assert stored is not None and [t.language for t in stored.tracks] == ["en", "es", "fr", "de"]
    catalog.record_renditions("a", "j2", [], T0, Tracks((EMBEDDED,)))
    catalog.record_renditions("a", "j2", [], T0, Tracks((EMBEDDED,)))  # redelivered
    assert _sidecars(catalog) == ["fr", "de"]
    processor.handle(
        JobStateChanged(job_id="j2", status=JobState.COMPLETE, asset_id="a", outputs=OUTPUTS)
    )
    assert _read(store, MASTER).count("TYPE=SUBTITLES") == 3
    # a duplicate run of the first job (its lease had expired) publishes its manifests, with
    # no sidecar, over the COMPLETED asset's, then reports COMPLETE: that repairs them
    store.put_stream(MASTER, io.BytesIO(SOURCE_MASTER.encode()))
    _complete(processor)
    master = _read(store, MASTER)
    assert master.count("TYPE=SUBTITLES") == 3 and "es.m3u8" not in master


def test_a_sidecar_default_stays_the_only_default_text_track_through_a_transcode() -> None:
    catalog, store, service, _ = _parts()
    asset = _asset(catalog, store, complete=False)
    service.put(asset, sidecar("fr", default=True), FR)
    forced = Track(EMBEDDED.type, "en", "Signs", default=True, forced=True, index=4)
    catalog.record_renditions("a", "j", [], T0, Tracks((forced,)))
    stored = catalog.get("a")
    assert stored is not None
    assert [(t.language, t.default) for t in stored.tracks] == [("en", False), ("fr", True)]


def test_a_job_without_manifests_or_sidecars_completes_and_one_with_sidecars_waits() -> None:
    """Settling reads no manifest it has no sidecar for: a job that wrote none (a runner's
    outputs elsewhere) completes; an added caption with no manifest to go in is an error."""
    catalog, store, _, processor = _parts()
    _asset(catalog, store, complete=False)
    for key in (MASTER, "a/stream/manifest.mpd"):
        store.delete(key)
    _complete(processor)
    done = catalog.get("a")
    assert done is not None and done.status is AssetStatus.COMPLETED

    catalog, store, service, processor = _parts()
    asset = _asset(catalog, store, complete=False)
    service.put(asset, sidecar("fr"), FR)
    store.delete(MASTER)
    with pytest.raises(ObjectNotFound):
        _complete(processor)
    waiting = catalog.get("a")
    assert waiting is not None and waiting.status is AssetStatus.PROCESSING
