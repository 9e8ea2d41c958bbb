"""One contract, every catalog: the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.aws_stack import dynamodb_catalog
from vodkit.adapters.catalog.base import Catalog, SourceIndex
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.catalog.postgres import PostgresCatalog
from vodkit.adapters.catalog.postgres import catalog_database as postgres_database
from vodkit.adapters.catalog.sqlite import SqliteCatalog
from vodkit.domain.asset import Asset, AssetError, AssetStatus, Job, JobState
from vodkit.domain.errors import AssetNotFound, Conflict
from vodkit.domain.tracks import (
    Role,
    Skipped,
    TextKind,
    Track,
    Tracks,
    TrackSource,
    TrackType,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres", "dynamodb"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    if request.param == "memory":
        yield MemoryCatalog()
    elif request.param == "dynamodb":
        yield dynamodb_catalog(request.getfixturevalue("aws"))
    elif request.param == "postgres":
        db = postgres_database(request.getfixturevalue("postgres_dsn"))
        yield PostgresCatalog(db)
        db.close()
    else:
        yield SqliteCatalog(tmp_path / "catalog.sqlite3")


def new(asset_id: str, uploader: str = "u", minute: int = 0, key: str = "") -> Asset:
    return Asset.new(
        asset_id=asset_id,
        uploader_id=uploader,
        source_key=key or f"uploads/{uploader}/{asset_id}.mp4",
        source_bucket="b",
        source_version="v",
        filename=f"{asset_id}.mp4",
        file_size=42,
        now=T0 + timedelta(minutes=minute),
    )


TRACKS = Tracks(
    kept=(
        Track(TrackType.AUDIO, "en", "English", default=True, roles=(Role.MAIN,), channels=6,
              codec="ac3", index=1),
        Track(TrackType.AUDIO, "fr", "Fran\u00e7ais", roles=(Role.DUB,), channels=2, index=2),
        Track(TrackType.TEXT, "pt-BR", "Portugu\u00eas", kind=TextKind.CAPTIONS,
              roles=(Role.CAPTION,), codec="subrip", index=3),
    ),
    skipped=(Skipped("text", "hdmv_pgs_subtitle", "en", "bitmap subtitles need OCR", 4),),
)  # fmt: skip


def start(catalog: Catalog, asset_id: str, jobs: int = 1, tracks: Tracks | None = None) -> Asset:
    return catalog.start_processing(
        asset_id,
        [Job(f"{asset_id}-j{i}", JobState.SUBMITTED, request={"n": i}) for i in range(jobs)],
        formats=["hls", "dash"],
        renditions=[{"name": "720p", "width": 1280}],
        now=T0,
        duration=12.48,
        tracks=tracks,
    )


def test_create_is_idempotent(catalog: Catalog) -> None:
    asset, created = catalog.create(new("a"))
    assert created and asset == new("a")
    again, created = catalog.create(new("a", uploader="someone-else"))
    assert not created and again.uploader_id == "u"
    assert catalog.get("a") == asset
    assert catalog.get("missing") is None


def test_queries_by_status_and_uploader_newest_first(catalog: Catalog) -> None:
    for i, (asset_id, uploader) in enumerate([("a", "u1"), ("b", "u2"), ("c", "u1"), ("d", "u1")]):
        catalog.create(new(asset_id, uploader, minute=i))
    start(catalog, "c")
    assert [a.asset_id for a in catalog.query(uploader_id="u1")] == ["d", "c", "a"]
    assert [a.asset_id for a in catalog.query(status=AssetStatus.PENDING)] == ["d", "b", "a"]
    assert [a.asset_id for a in catalog.query(status=AssetStatus.PROCESSING)] == ["c"]
    assert [a.asset_id for a in catalog.query(status=AssetStatus.PENDING, uploader_id="u1")] == [
        "d",
        "a",
    ]
    assert [a.asset_id for a in catalog.query(limit=2)] == ["d", "c"]


def test_sql_catalogs_know_which_keys_they_have_seen(catalog: Catalog) -> None:
    """What the upload watchers ask of each object they list (an index, no scan)."""
    if not isinstance(catalog, SourceIndex):
        pytest.skip("DynamoDB's footprint is told of uploads by S3 events")
    catalog.create(new("b", "u2"))
    assert catalog.has_source("b", "uploads/u2/b.mp4")
    assert not catalog.has_source("b", "uploads/u2/zzz.mp4")


def test_start_processing_records_jobs_and_is_conditional(catalog: Catalog) -> None:
    catalog.create(new("a"))
    asset = start(catalog, "a", jobs=2, tracks=TRACKS)
    assert asset.status is AssetStatus.PROCESSING
    assert asset.job_ids == ("a-j0", "a-j1")
    assert asset.formats == ("hls", "dash") and asset.renditions[0]["name"] == "720p"
    assert catalog.get("a").duration == 12.48  # type: ignore[union-attr]
    assert new("b").duration is None  # unknown until the upload is probed
    stored = catalog.get("a")
    assert stored is not None and stored.kind == "video"
    assert (stored.tracks, stored.skipped) == (TRACKS.kept, TRACKS.skipped)
    assert (new("b").tracks, new("b").skipped) == ((), ())  # unknown until it is probed
    assert [(j.job_id, j.state, j.request) for j in catalog.jobs("a")] == [
        ("a-j0", JobState.SUBMITTED, {"n": 0}),
        ("a-j1", JobState.SUBMITTED, {"n": 1}),
    ]
    with pytest.raises(Conflict):
        start(catalog, "a")
    with pytest.raises(AssetNotFound):
        start(catalog, "missing")


def test_an_audio_only_assets_kind_is_recorded_as_it_starts(catalog: Catalog) -> None:
    catalog.create(new("a"))
    catalog.start_processing(
        "a", [Job("a-j0", JobState.SUBMITTED)], formats=["hls", "dash", "m4a", "poster"],
        renditions=[{"name": "audio_128k", "kind": "stream"}], now=T0, kind="audio",
    )  # fmt: skip
    stored = catalog.get("a")
    assert stored is not None and stored.kind == "audio"
    assert stored.formats == ("hls", "dash", "m4a", "poster")
    catalog.complete_job("a", "a-j0", {"hls": "a/stream/master.m3u8"}, T0)
    done = catalog.get("a")
    assert done is not None and done.status is AssetStatus.COMPLETED and done.kind == "audio"


def test_completion_happens_exactly_once_when_every_job_is_complete(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a", jobs=2)
    catalog.record_progress("a", "a-j0", 55.0, T0)
    assert catalog.jobs("a")[0].state is JobState.PROGRESSING
    assert catalog.jobs("a")[0].percent == 55.0
    assert catalog.complete_job("a", "a-j0", {"hls": "a/h.m3u8"}, T0) is False
    assert catalog.complete_job("a", "a-j0", {"hls": "a/h.m3u8"}, T0) is False
    assert catalog.get("a").status is AssetStatus.PROCESSING  # type: ignore[union-attr]
    assert catalog.complete_job("a", "a-j1", {"mp4": "a/p.mp4"}, T0) is True
    assert catalog.complete_job("a", "a-j1", {"mp4": "a/p.mp4"}, T0) is False
    asset = catalog.get("a")
    assert asset is not None and asset.status is AssetStatus.COMPLETED
    assert asset.outputs == {"hls": "a/h.m3u8", "mp4": "a/p.mp4"}
    catalog.record_progress("a", "a-j1", 3.0, T0)  # late progress changes nothing
    assert catalog.jobs("a")[1].percent == 100.0


def test_failure_is_final_and_late_events_write_nothing(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a", jobs=2)
    assert catalog.fail("a", AssetError("E1", "first"), T0, job_id="a-j0") is True
    failed = catalog.get("a")
    jobs = catalog.jobs("a")
    later = T0 + timedelta(minutes=5)
    assert catalog.fail("a", AssetError("E2", "second"), later, job_id="a-j1") is False
    assert catalog.complete_job("a", "a-j1", {"hls": "x"}, later) is False
    catalog.record_progress("a", "a-j1", 50.0, later)
    assert catalog.get("a") == failed  # not even updatedAt moves
    assert catalog.jobs("a") == jobs
    assert failed is not None and failed.status is AssetStatus.FAILED
    assert [(e.code, e.message, e.job_id) for e in failed.errors] == [("E1", "first", "a-j0")]
    assert all(e.at for e in failed.errors)
    assert [j.state for j in jobs] == [JobState.ERROR, JobState.SUBMITTED]


def test_a_pending_asset_can_fail_but_a_completed_one_cannot(catalog: Catalog) -> None:
    catalog.create(new("p"))
    assert catalog.fail("p", AssetError("Bad", "no video"), T0) is True
    catalog.create(new("c"))
    start(catalog, "c")
    catalog.complete_job("c", "c-j0", {}, T0)
    completed = catalog.get("c")
    assert catalog.fail("c", AssetError("Late", "too late"), T0, job_id="c-j0") is False
    assert catalog.get("c") == completed and completed is not None
    assert completed.status is AssetStatus.COMPLETED and completed.errors == ()


def test_retry_moves_a_failed_asset_back_to_pending(catalog: Catalog) -> None:
    catalog.create(new("a"))
    with pytest.raises(Conflict):
        catalog.retry("a", T0)
    start(catalog, "a")
    catalog.fail("a", AssetError("E", "x"), T0)
    asset = catalog.retry("a", T0)
    assert (asset.status, asset.attempt, asset.job_ids) == (AssetStatus.PENDING, 2, ())
    assert catalog.jobs("a") == []
    assert len(asset.errors) == 1
    with pytest.raises(AssetNotFound):
        catalog.retry("missing", T0)


def test_sqlite_queries_by_status_and_uploader_use_their_indexes(tmp_path: Path) -> None:
    catalog = SqliteCatalog(tmp_path / "c.sqlite3")
    catalog.create(new("a"))
    conn = catalog.db.read()
    for where, index in (
        ("status = 'PENDING'", "assets_by_status"),
        ("uploader_id = 'u'", "assets_by_uploader"),
    ):
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM assets WHERE {where} ORDER BY created_at DESC"
            )
        )
        assert f"USING INDEX {index}" in plan, plan
        assert "TEMP B-TREE" not in plan  # ordered by the index, not sorted afterwards


def test_progress_carries_an_eta(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a")
    catalog.record_progress("a", "a-j0", 40.0, T0, eta_seconds=12.5)
    (job,) = catalog.jobs("a")
    assert (job.percent, job.eta_seconds) == (40.0, 12.5)
    catalog.complete_job("a", "a-j0", {}, T0)
    (job,) = catalog.jobs("a")
    assert (job.percent, job.eta_seconds) == (100.0, 0.0)


def test_progress_is_stored_with_its_phase(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a")
    catalog.record_progress("a", "a-j0", 33.3, T0, phase="analysing")
    (job,) = catalog.jobs("a")
    assert (job.percent, job.phase) == (33.3, "analysing")


def test_what_the_job_made_replaces_the_planned_renditions_while_it_runs(
    catalog: Catalog,
) -> None:
    catalog.create(new("a"))
    start(catalog, "a")
    made = [{"name": "720p", "crf": 27, "predictedVmaf": 95.2, "averageBitrate": 812_000}]
    catalog.record_renditions("a", "a-j0", made, T0)
    asset = catalog.get("a")
    assert asset is not None and list(asset.renditions) == made
    catalog.complete_job("a", "a-j0", {}, T0)
    catalog.record_renditions("a", "a-j0", [{"name": "late"}], T0)  # the job has ended
    asset = catalog.get("a")
    assert asset is not None and list(asset.renditions) == made


def test_the_tracks_the_job_could_not_publish_move_to_skipped(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a")
    english = Track(TrackType.TEXT, "en", "English", codec="subrip", index=2)
    lost = Skipped("text", "ass", "fr", "the track holds no captions", index=3)
    catalog.record_renditions("a", "a-j0", [], T0, Tracks((english,), (lost,)))
    asset = catalog.get("a")
    assert asset is not None and (asset.tracks, asset.skipped) == ((english,), (lost,))
    catalog.record_renditions("a", "a-j0", [{"name": "720p"}], T0)  # no tracks: kept as they are
    asset = catalog.get("a")
    assert asset is not None and (asset.tracks, asset.skipped) == ((english,), (lost,))


def test_two_last_completions_at_once_complete_the_asset_exactly_once(catalog: Catalog) -> None:
    import threading

    for round_ in range(5):
        asset_id = f"race-{round_}"
        catalog.create(new(asset_id))
        start(catalog, asset_id, jobs=2)
        barrier = threading.Barrier(2)
        results: list[bool] = []

        def finish(
            job: str,
            asset_id: str = asset_id,
            barrier: threading.Barrier = barrier,
            results: list[bool] = results,
        ) -> None:
            barrier.wait()
            results.append(catalog.complete_job(asset_id, job, {job: job}, T0))

        threads = [threading.Thread(target=finish, args=(f"{asset_id}-j{i}",)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False, True]
        asset = catalog.get(asset_id)
        assert asset is not None and asset.status is AssetStatus.COMPLETED
        assert set(asset.outputs) == {f"{asset_id}-j0", f"{asset_id}-j1"}


def test_a_deleted_asset_is_a_tombstone_nothing_brings_back(catalog: Catalog) -> None:
    catalog.create(new("a"))
    start(catalog, "a", jobs=2)
    catalog.complete_job("a", "a-j0", {"hls": "a/h.m3u8"}, T0)
    assert catalog.delete("a", T0) is True
    deleted = catalog.get("a")
    assert deleted is not None and deleted.status is AssetStatus.DELETED
    assert deleted.outputs == {}
    assert [j.state for j in catalog.jobs("a")] == [JobState.COMPLETE, JobState.CANCELED]
    assert catalog.delete("a", T0) is False  # idempotent
    later = T0 + timedelta(minutes=1)
    assert catalog.complete_job("a", "a-j1", {"mp4": "a/p.mp4"}, later) is False
    catalog.record_progress("a", "a-j1", 80.0, later)
    assert catalog.fail("a", AssetError("E", "late"), later, job_id="a-j1") is False
    again, created = catalog.create(new("a"))  # a redelivered upload event
    assert not created and again.status is AssetStatus.DELETED
    with pytest.raises(Conflict):
        catalog.retry("a", later)
    assert catalog.get("a") == deleted
    with pytest.raises(AssetNotFound):
        catalog.delete("missing", T0)


SIDECAR = Track(TrackType.TEXT, "de", "Deutsch", kind=TextKind.SUBTITLES,
                roles=(Role.SUBTITLE,), source=TrackSource.SIDECAR)  # fmt: skip


def test_an_assets_tracks_are_set_at_any_status_but_deleted(catalog: Catalog) -> None:
    catalog.create(new("a"))
    pending = catalog.set_tracks("a", [SIDECAR], T0 + timedelta(minutes=1))
    assert pending.status is AssetStatus.PENDING and pending.tracks == (SIDECAR,)
    start(catalog, "a", tracks=TRACKS)
    catalog.complete_job("a", "a-j0", {"hls": "a/stream/master.m3u8"}, T0)
    later = T0 + timedelta(minutes=2)
    done = catalog.set_tracks("a", [*TRACKS.kept, SIDECAR], later)
    stored = catalog.get("a")
    assert stored is not None and stored == done
    assert stored.status is AssetStatus.COMPLETED and stored.tracks == (*TRACKS.kept, SIDECAR)
    assert stored.skipped == TRACKS.skipped and stored.outputs == {"hls": "a/stream/master.m3u8"}
    assert stored.updated_at.startswith("2026-01-01T00:02")
    catalog.delete("a", T0)
    with pytest.raises(Conflict):
        catalog.set_tracks("a", [], T0)
    with pytest.raises(AssetNotFound):
        catalog.set_tracks("nope", [], T0)


def test_caption_changes_at_once_are_all_kept(catalog: Catalog) -> None:
    """Each writer changes the tracks the catalog holds, never a copy it read before."""
    catalog.create(new("a"))
    start(catalog, "a", tracks=TRACKS)
    languages = ["de", "fr", "es", "it", "nl", "pt", "sv", "da"]

    def add(language: str) -> None:
        track = replace(SIDECAR, language=language, name=language)
        catalog.update_tracks("a", lambda stored: (*stored.tracks, track), T0)

    if isinstance(catalog, DynamoDbCatalog):
        # moto's server checks a condition and writes apart (two writers at once may both
        # pass): the other writer lands between this one's read and write, deterministically
        first, raced = replace(SIDECAR, language="first", name="first"), []

        def interleaved(stored: Asset) -> tuple[Track, ...]:
            if not raced:
                raced.append(True)
                add("da")  # after the read, before the conditional write
            return (*stored.tracks, first)

        catalog.update_tracks("a", interleaved, T0)
        languages = ["da", "first"]
    else:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(add, languages))
    stored = catalog.get("a")
    assert stored is not None and stored.tracks[: len(TRACKS.kept)] == TRACKS.kept
    assert sorted(t.language for t in stored.tracks[len(TRACKS.kept) :]) == sorted(languages)
    # a transcode's tracks replace the source's own only
    catalog.record_renditions("a", "a-j0", [], T0, Tracks(TRACKS.kept[:1]))
    stored = catalog.get("a")
    assert stored is not None and len(stored.tracks) == 1 + len(languages)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def logged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "postgres":
        db = postgres_database(request.getfixturevalue("postgres_dsn"))
        yield PostgresCatalog(db)
        db.close()
    else:
        yield (
            MemoryCatalog() if request.param == "memory" else SqliteCatalog(tmp_path / "c.sqlite3")
        )


def test_every_status_change_is_in_the_outbox_in_order(logged: Any) -> None:
    logged.create(new("a"))
    logged.create(new("a"))  # not new: nothing recorded
    start(logged, "a")
    logged.record_progress("a", "a-j0", 10.0, T0)  # not a status change
    logged.fail("a", AssetError("E", "x"), T0)
    logged.retry("a", T0)  # recorded by the processing that follows
    start(logged, "a")
    logged.complete_job("a", "a-j0", {}, T0)
    logged.delete("a", T0)
    events = logged.events_after(0)
    assert [e.type for e in events] == [
        "asset.created",
        "asset.processing",
        "asset.failed",
        "asset.processing",
        "asset.completed",
        "asset.deleted",
    ]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert events[2].asset["errors"][0]["code"] == "E" and events[4].asset["status"] == "COMPLETED"
    assert len({e.event_id for e in events}) == 6
    assert [e.type for e in logged.events_after(events[3].seq, limit=1)] == ["asset.completed"]


def test_a_change_of_sidecar_captions_is_an_asset_updated_event(logged: Any) -> None:
    logged.create(new("a"))
    start(logged, "a", tracks=TRACKS)
    logged.record_renditions("a", "a-j0", [], T0, Tracks(TRACKS.kept[:2]))  # not sidecars
    logged.complete_job("a", "a-j0", {}, T0)
    seq = logged.events_after(0)[-1].seq
    logged.set_tracks("a", [*TRACKS.kept[:2], SIDECAR], T0)
    logged.set_tracks("a", [*TRACKS.kept[:2], SIDECAR], T0)  # no change: nothing recorded
    logged.set_tracks("a", TRACKS.kept[:2], T0)
    events = logged.events_after(seq)
    assert [e.type for e in events] == ["asset.updated", "asset.updated"]
    assert events[0].asset["tracks"][-1]["source"] == "sidecar"
    assert events[0].asset["status"] == "COMPLETED" and events[1].asset["tracks"] == [
        t.to_dict() for t in TRACKS.kept[:2]
    ]


def test_the_status_changes_are_totalled_by_type_and_never_go_down(logged: Any) -> None:
    """What /metrics exports as counters: the same from every process, whatever it saw."""
    assert logged.totals() == {}
    for asset_id in ("a", "b"):
        logged.create(new(asset_id))
        start(logged, asset_id)
    logged.fail("a", AssetError("E", "x"), T0)
    logged.fail("a", AssetError("E", "again"), T0)  # no status change: not counted again
    logged.retry("a", T0)
    start(logged, "a")
    logged.complete_job("a", "a-j0", {}, T0)
    logged.complete_job("a", "a-j0", {}, T0)  # a duplicate: the asset completed once
    logged.fail("b", AssetError("E", "x"), T0)
    logged.delete("a", T0)
    assert logged.counts() == {"FAILED": 1, "DELETED": 1}  # what is there now...
    assert logged.totals() == {  # ...and what happened: a deleted asset still completed
        "asset.created": 2,
        "asset.processing": 3,
        "asset.failed": 2,
        "asset.completed": 1,
        "asset.deleted": 1,
    }


def test_a_job_is_leased_to_one_worker_at_a_time_and_freed_when_its_lease_ends(
    catalog: Catalog,
) -> None:
    catalog.create(new("a"))
    start(catalog, "a")
    assert catalog.claim_job("a", "a-j0", "w1", until=110.0, at=100.0, now=T0) is True
    assert catalog.claim_job("a", "a-j0", "w2", until=111.0, at=101.0, now=T0) is False
    assert catalog.claim_job("a", "a-j0", "w1", until=150.0, at=120.0, now=T0) is True  # extended
    assert catalog.restart_job("a", "a-j0", at=140.0, now=T0) == 0  # still live
    (job,) = catalog.jobs("a")
    assert (job.lease_owner, job.lease_until, job.restarts) == ("w1", 150.0, 0)
    assert catalog.restart_job("a", "a-j0", at=151.0, now=T0) == 1  # its worker died
    (job,) = catalog.jobs("a")
    assert (job.lease_owner, job.state, job.restarts) == ("", JobState.SUBMITTED, 1)
    assert catalog.claim_job("a", "a-j0", "w2", until=200.0, at=152.0, now=T0) is True
    assert catalog.release_job("a", "a-j0", "w3", now=T0) is False  # not its lease
    assert catalog.release_job("a", "a-j0", "w2", now=T0) is True  # its attempt failed
    (job,) = catalog.jobs("a")
    assert (job.lease_owner, job.lease_until, job.restarts) == ("", 0.0, 1)
    assert catalog.restart_job("a", "a-j0", at=999.0, now=T0) == 0  # waits for its retry
    assert catalog.claim_job("a", "a-j0", "w3", until=210.0, at=160.0, now=T0) is True
    catalog.complete_job("a", "a-j0", {}, T0)
    assert catalog.claim_job("a", "a-j0", "w3", until=300.0, at=999.0, now=T0) is False  # ended
    assert catalog.restart_job("a", "a-j0", at=999.0, now=T0) == 0
