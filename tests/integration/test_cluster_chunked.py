"""Split-and-stitch on the cluster (issue 28), end to end: PostgreSQL, moto's S3 server,
Celery workers on RabbitMQ, real FFmpeg, a 20 s clip in chunks of 6 s (3 chunks)."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import m3u8
import pytest

from tests.cluster import Cluster, free_port, private_broker_cluster
from tests.conftest import FFMPEG, AwsSession, make_clip
from tests.media_checks import dash_tracks, decode, joined
from vodkit.adapters.chunks.base import AUDIO, THUMBS, Piece
from vodkit.adapters.chunks.postgres import PostgresChunkLedger
from vodkit.domain.asset import Asset
from vodkit.entrypoints.http.schemas import AssetOut

pytestmark = pytest.mark.integration
SECONDS, RATE = 20, 30
CHUNKS = 3  # 6 s, 6 s and the last 8 s (a 2 s remainder joins it)


def _s3(cluster: Cluster) -> Any:
    return boto3.client(
        "s3", endpoint_url=cluster.env["VODKIT_S3_ENDPOINT_URL"], region_name="us-east-1"
    )


def _keys(cluster: Cluster) -> list[str]:
    listed = _s3(cluster).list_objects_v2(Bucket=cluster.env["VODKIT_OUTPUTS_BUCKET"])
    return [o["Key"] for o in listed.get("Contents", [])]


def _pieces(cluster: Cluster, asset_id: str) -> tuple[list[Piece], int]:
    db = cluster.app.catalog.db  # type: ignore[attr-defined]
    ledger = PostgresChunkLedger(db)
    job = ledger.latest(asset_id)
    assert job is not None, "the asset was not chunked"
    with db.reading() as conn:
        stitches = conn.execute("SELECT stitches FROM chunk_jobs WHERE job_id = ?", (job,))
        return ledger.pieces(job), int(stitches.fetchone()["stitches"])


def _download(cluster: Cluster, asset_id: str, target: Path) -> Path:
    s3 = _s3(cluster)
    for key in _keys(cluster):
        if key.startswith(f"{asset_id}/"):
            path = target / key
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(cluster.env["VODKIT_OUTPUTS_BUCKET"], key, str(path))
    return target / asset_id


def _no_scratch_left(cluster: Cluster) -> None:
    """The stitch removes the chunks' runs once the asset is COMPLETED (a stitch that
    dies before it ends must find them again)."""
    cluster.wait_until(
        lambda: not [k for k in _keys(cluster) if k.startswith("scratch/")], 20, "no scratch"
    )


def _chunked(cluster: Cluster) -> None:
    cluster.env["VODKIT_CHUNK_SECONDS"] = "6"


def test_a_long_source_is_chunked_over_two_workers_and_stitched_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    done = cluster.vodkit("ingest", str(clip), "--uploader", "alice", "--wait", "--json")
    assert done.returncode == 0, done.stdout + done.stderr + cluster.tail()
    asset = json.loads(done.stdout)
    assert asset["status"] == "COMPLETED", asset
    pieces, stitches = _pieces(cluster, asset["assetId"])
    assert [p.piece for p in pieces] == [*range(CHUNKS), AUDIO, THUMBS]
    assert all(p.state == "done" and p.runs == 1 for p in pieces), pieces
    assert stitches == 1
    _no_scratch_left(cluster)
    out = _download(cluster, asset["assetId"], tmp_path / "out")
    stream = out / "stream"
    master = m3u8.load(str(stream / "master.m3u8"))
    assert master.is_variant and master.playlists
    _, dash = dash_tracks(stream / "manifest.mpd")  # a third-party parser reads it
    assert dash
    # the same clip in one pass (the embedded footprint's `vodkit transcode`), to compare
    single = tmp_path / "single"
    one = cluster.vodkit("transcode", str(clip), "--out", str(single), VODKIT_BACKEND="embedded")
    assert one.returncode == 0, one.stderr
    for variant in master.playlists:
        rung = stream / variant.uri.split("/")[0]
        playlist = m3u8.load(str(rung / "index.m3u8"))
        segments = [rung / s.uri for s in playlist.segments]
        assert segments[0].name == "seg_00001.m4s" and playlist.is_endlist
        whole = decode(joined(rung / "init.mp4", segments, tmp_path / f"{rung.name}.mp4"))
        theirs = single / "stream" / rung.name
        reference = decode(
            joined(
                theirs / "init.mp4",
                [theirs / s.uri for s in m3u8.load(str(theirs / "index.m3u8")).segments],
                tmp_path / f"one-{rung.name}.mp4",
            )
        )
        assert whole.frames == reference.frames == SECONDS * RATE, rung.name
        assert whole.keyframes == reference.keyframes, rung.name  # the same GOP grid
        assert whole.duration == pytest.approx(reference.duration, abs=0.001)
    preview = next(iter((out / "mp4").glob("*.mp4")))
    data = preview.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart
    made = decode(preview)
    assert made.frames == SECONDS * RATE and made.audio_channels == 2
    assert (out / "thumbs" / "poster.jpg").is_file() and (out / "thumbs" / "sprite.vtt").is_file()
    shown = cluster.vodkit("assets", "show", asset["assetId"], "--json")
    assert json.loads(shown.stdout)["status"] == "COMPLETED", shown.stderr
    cluster.stop_workers()
    assert cluster.scratch_left() == []


def _ffmpeg(path: Path, on_chunk: str) -> Path:
    """The real FFmpeg, but a chunk's encode (only chunks seek with -start_at_zero) runs
    ``on_chunk`` first: a worker to kill mid-chunk, a chunk that fails."""
    path.write_text(
        f'#!/bin/sh\ncase "$*" in *-start_at_zero*) {on_chunk};; esac\nexec {FFMPEG} "$@"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _slow_ffmpeg(path: Path, seconds: int = 120) -> Path:
    return _ffmpeg(path, f"sleep {seconds}")


def _running(cluster: Cluster, asset_id: str) -> bool:
    ledger = PostgresChunkLedger(cluster.app.catalog.db)  # type: ignore[attr-defined]
    job = ledger.latest(asset_id)
    return job is not None and any(
        p.piece >= 0 and p.state == "running" for p in ledger.pieces(job)
    )


def test_a_worker_killed_mid_chunk_costs_that_chunk_only(cluster: Cluster, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    doomed = cluster.start_worker("doomed", VODKIT_FFMPEG=str(_slow_ffmpeg(tmp_path / "ff")))
    queued = cluster.vodkit("ingest", str(clip), "--uploader", "alice")
    assert queued.returncode == 0, queued.stderr
    asset_id = queued.stdout.strip()

    cluster.wait_until(lambda: _running(cluster, asset_id), 120, "a chunk to start")
    # while it runs, every front door shows the chunks
    shown = cluster.vodkit("assets", "show", asset_id, "--json")
    progress = json.loads(shown.stdout)["progress"]
    assert progress["chunks"] == {"count": CHUNKS, "done": 0, "running": 1, "retried": 0}
    assert progress["phase"] == "encoding", progress
    text = cluster.vodkit("assets", "show", asset_id).stdout
    assert "chunks    0 of 3 done, 1 running, 0 retried" in text, text
    app = cluster.app
    public = app.assets.view(app.assets.get(asset_id), internal=False).public()
    api = AssetOut.model_validate(public)  # the API's schema takes it
    assert api.progress is not None and api.progress.chunks is not None
    assert api.progress.chunks.count == CHUNKS
    cluster.kill(doomed)  # its whole process group: Celery's pool and FFmpeg
    port = free_port()
    cluster.start_worker("survivor", "--metrics-port", str(port))
    (asset,) = cluster.wait_ended([asset_id], timeout=180)
    again = cluster.vodkit("assets", "show", asset_id, "--json")
    assert json.loads(again.stdout)["progress"] is None  # the chunks only while it runs
    assert asset.status.value == "COMPLETED", asset.errors
    pieces, stitches = _pieces(cluster, asset_id)
    reruns = [p.piece for p in pieces if p.runs > 1]
    assert len(reruns) == 1 and reruns[0] >= 0, pieces  # the killed chunk, and only it
    assert all(p.runs == 1 for p in pieces if p.piece not in reruns)
    assert stitches == 1
    _no_scratch_left(cluster)
    # the survivor ran every piece: its children's counts, served by its main process
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'vodkit_chunk_runs_total{outcome="done"} 5.0' in metrics, metrics


def _published(cluster: Cluster, asset: Asset) -> set[str]:
    """Every key the published asset names: its manifests, what they list (init segments,
    segments), its sprite's sheets and its recorded outputs (the preview, the poster)."""
    s3, bucket = _s3(cluster), cluster.env["VODKIT_OUTPUTS_BUCKET"]

    def read(key: str) -> str:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())

    stream = f"{asset.asset_id}/stream/"
    keys = {f"{stream}master.m3u8", f"{stream}manifest.mpd"}
    master = m3u8.loads(read(f"{stream}master.m3u8"))
    for uri in [p.uri for p in master.playlists] + [m.uri for m in master.media if m.uri]:
        key = stream + uri
        base = key.rsplit("/", 1)[0] + "/"
        media = m3u8.loads(read(key))
        keys |= {key, base + media.segment_map[0].uri, *(base + s.uri for s in media.segments)}
    vtt = f"{asset.asset_id}/thumbs/sprite.vtt"
    sheets = re.findall(r"^(\S+\.jpg)#xywh=", read(vtt), re.MULTILINE)
    keys |= {vtt, *(f"{asset.asset_id}/thumbs/{sheet}" for sheet in sheets)}
    return keys | set(asset.outputs.values())


def _only_published_left(cluster: Cluster, asset: Asset) -> None:
    """Once the scratch is gone, the bucket holds exactly what the asset published."""
    _no_scratch_left(cluster)
    assert sorted(_keys(cluster)) == sorted(_published(cluster, asset))


def _chunk_on(marker: Path) -> tuple[int, int]:
    """The FFmpeg pid and the chunk that a worker's FFmpeg wrapper (``_marking_ffmpeg``)
    wrote it began; 6 s chunks of 6 s segments: chunk i starts at segment i + 1."""
    pid, args = marker.read_text().split(" ", 1)
    first = re.search(r"-start_number (\d+)", args)
    assert first is not None, args
    return int(pid), int(first.group(1)) - 1


def _encoding(pid: int) -> bool:
    """The process runs FFmpeg itself now (the wrapper's shell exec'ed it), not its shell."""
    try:
        return os.readlink(f"/proc/{pid}/exe") == os.path.realpath(FFMPEG)
    except OSError:
        return False


def _marking_ffmpeg(path: Path, marker: Path) -> Path:
    """A chunk's FFmpeg that writes its pid and arguments to ``marker``, then encodes at a
    quarter of real time: a 6 s chunk takes 24 s, a kill lands mid-chunk for sure."""
    return _ffmpeg(path, f'echo "$$ $*" > {marker}; exec {FFMPEG} -readrate 0.25 "$@"')


def test_two_workers_killed_mid_chunk_cost_those_two_chunks_only(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Two workers; each is SIGKILLed, whole process group, while its FFmpeg encodes a chunk,
    and replaced: the asset completes once, only the two chunks killed ran twice, and the
    bucket holds only the published outputs."""
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    markers = [tmp_path / "doomed1.chunk", tmp_path / "doomed2.chunk"]
    doomed = [
        cluster.start_worker(
            f"doomed{n}", VODKIT_FFMPEG=str(_marking_ffmpeg(tmp_path / f"ff{n}", marker))
        )
        for n, marker in enumerate(markers, 1)
    ]
    asset_id = cluster.app.assets.upload_file(clip, "alice", "clip.mp4").asset_id

    def encoding() -> bool:  # both workers' FFmpeg encode a chunk of their own
        return all(m.exists() and _encoding(_chunk_on(m)[0]) for m in markers)

    cluster.wait_until(encoding, 180, "both doomed workers to encode a chunk", poll=0.1)
    killed = []
    for n, (worker, marker) in enumerate(zip(doomed, markers, strict=True), 1):
        pid, chunk = _chunk_on(marker)
        assert _encoding(pid), f"doomed{n}'s FFmpeg ended before its kill"
        cluster.kill(worker)  # its whole process group: Celery's pool and FFmpeg
        assert not Path(f"/proc/{pid}").exists()  # FFmpeg died with it
        killed.append(chunk)
        cluster.start_worker(f"replacement{n}")  # two workers again
    assert len(set(killed)) == 2, killed  # two chunks at once, so never the same one
    (asset,) = cluster.wait_ended([asset_id], timeout=300)
    assert asset.status.value == "COMPLETED", asset.errors
    completions = [
        e
        for e in cluster.app.catalog.events_after(0, limit=1000)
        if e.type == "asset.completed" and e.asset_id == asset_id
    ]
    assert len(completions) == 1, completions
    pieces, stitches = _pieces(cluster, asset_id)
    assert stitches == 1
    assert all(p.state == "done" for p in pieces), pieces
    runs = {p.piece: p.runs for p in pieces}
    assert runs == {p: 2 if p in killed else 1 for p in runs}, (killed, pieces)
    _only_published_left(cluster, asset)
    cluster.stop_workers()
    dead = [cluster.root / "workers" / f"doomed{n}" for n in (1, 2)]  # no time to clean up
    assert [p for p in cluster.scratch_left() if not any(p.is_relative_to(d) for d in dead)] == []


def test_a_chunk_out_of_retries_fails_the_asset_with_its_reason_and_is_dead_lettered(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    full = _ffmpeg(tmp_path / "ff", "echo 'No space left on device' >&2; exit 1")
    cluster.start_worker("w1", VODKIT_FFMPEG=str(full))
    done = cluster.vodkit("ingest", str(clip), "--uploader", "alice", "--wait", "--json")
    asset = json.loads(done.stdout)
    assert asset["status"] == "FAILED", done.stdout + cluster.tail()
    (error,) = asset["errors"]
    assert error["message"].startswith("piece 0 failed: "), error  # the chunk's reason
    assert "No space left on device" in error["message"], error
    letters = json.loads(cluster.vodkit("dlq", "list", "--json").stdout)["deadLetters"]
    assert [letter["queue"] for letter in letters] == ["chunks"], letters
    _no_scratch_left(cluster)


def test_deleting_an_asset_while_its_chunks_run_leaves_nothing_behind(
    cluster: Cluster, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    cluster.start_worker("w1", VODKIT_FFMPEG=str(_slow_ffmpeg(tmp_path / "ff", 4)))
    queued = cluster.vodkit("ingest", str(clip), "--uploader", "alice")
    asset_id = queued.stdout.strip()
    cluster.wait_until(lambda: _running(cluster, asset_id), 120, "a chunk to start")
    cluster.app.assets.delete(asset_id)
    log = cluster.root / "w1.log"

    def stopped() -> bool:  # the four queued pieces see the tombstone, the running one too
        return log.read_text().count("abandoned, its chunks' outputs removed") >= 5

    cluster.wait_until(stopped, 60, "every piece to stop")
    assert _keys(cluster) == []  # no scratch, no outputs
    ledger = PostgresChunkLedger(cluster.app.catalog.db)  # type: ignore[attr-defined]
    assert ledger.latest(asset_id) is None  # nor the job's rows
    assert "stitching" not in log.read_text()  # no piece finished: none was last


def test_a_chunk_length_that_would_cut_segments_stops_the_worker_with_why(
    cluster: Cluster,
) -> None:
    worker = cluster.start_worker("w1", VODKIT_CHUNK_SECONDS="7")
    assert worker.wait(60) != 0
    log = (cluster.root / "w1.log").read_text()
    assert "chunkSeconds: 7 s is not a multiple of the 6 s segment length" in log, log


@pytest.fixture
def own_broker_cluster(tmp_path: Path, postgres_dsn: str, aws: AwsSession) -> Iterator[Cluster]:
    """A cluster on a RabbitMQ node of the test's own (its default consumer_timeout), which
    the test restarts."""
    with private_broker_cluster(tmp_path, postgres_dsn, aws.endpoint) as running:
        yield running


def test_a_broker_restart_while_chunks_run_loses_nothing(
    own_broker_cluster: Cluster, tmp_path: Path
) -> None:
    cluster = own_broker_cluster
    clip = make_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=RATE)
    _chunked(cluster)
    slow = str(_slow_ffmpeg(tmp_path / "ff", 3))  # chunks still run when the broker goes
    cluster.start_worker("w1", VODKIT_FFMPEG=slow)
    cluster.start_worker("w2", VODKIT_FFMPEG=slow)
    asset_id = cluster.app.assets.upload_file(clip, "alice", "clip.mp4").asset_id
    cluster.wait_until(lambda: _running(cluster, asset_id), 120, "a chunk to start")
    cluster.broker.restart()  # type: ignore[attr-defined]
    (asset,) = cluster.wait_ended([asset_id], timeout=240)
    assert asset.status.value == "COMPLETED", asset.errors
    completions = [
        e for e in cluster.app.catalog.events_after(0, limit=1000) if e.type == "asset.completed"
    ]
    assert len(completions) == 1
    pieces, stitches = _pieces(cluster, asset_id)  # every piece done, stitched once
    assert [p.piece for p in pieces] == [*range(CHUNKS), AUDIO, THUMBS]
    assert all(p.state == "done" for p in pieces) and stitches == 1, pieces
    _only_published_left(cluster, asset)
    cluster.stop_workers()
    assert cluster.scratch_left() == []
