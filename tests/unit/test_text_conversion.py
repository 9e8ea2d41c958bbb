"""ASS/SSA tracks made WebVTT before a MediaConvert job (``services.text_conversion``), on fakes:
what is written where, what is skipped and why; the asset never fails for a track."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from tests.unit.test_mediaconvert_captions import MKV, PRESETS, plan_of
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.probe.memory import MemoryProber
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.transcoder.mediaconvert_captions import caption_selectors
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter, MemoryTextConverter
from vodkit.adapters.transcoder.pyav_text import EVENTS, dialogue
from vodkit.domain.asset import AssetStatus
from vodkit.domain.captions import Cue, parse_captions
from vodkit.domain.events import ObjectCreated
from vodkit.domain.ladder import NO_ASS_HERE, PlanningRules, plan_transcode
from vodkit.domain.media import StreamInfo
from vodkit.domain.plan import MEDIACONVERT
from vodkit.domain.tracks import TrackType
from vodkit.services.ingest import IngestOrchestrator
from vodkit.services.text_conversion import TextConversion

SOURCE = "uploads/alice/clip.mkv"
CUE = Cue(1.5, 3.0, "Bonjour\nle monde")
# the MKV with a second French ASS track (stream 5)
TWO_FRENCH = replace(
    MKV, streams=(*MKV.streams, StreamInfo(5, "subtitle", "ass", "fr", "Français (2)"))
)


def _conversion(
    cues: dict[int, list[Cue]], max_source_bytes: int = 1000
) -> tuple[TextConversion, MemoryTextConverter, MemoryObjectStore]:
    uploads, outputs = MemoryObjectStore("uploads"), MemoryObjectStore("outputs")
    uploads.put_stream(SOURCE, io.BytesIO(b"the upload"))
    converter = MemoryTextConverter(cues)
    conversion = TextConversion(
        uploads=uploads, outputs=outputs, converter=converter, max_source_bytes=max_source_bytes
    )
    return conversion, converter, outputs


def test_an_ass_track_is_written_as_webvtt_at_its_caption_key() -> None:
    conversion, converter, outputs = _conversion({4: [CUE]})
    plan = conversion.apply(plan_of(MKV), "a-1", SOURCE, 10)
    assert converter.reads == [(b"the upload", "matroska", [4])]  # the whole upload, its demuxer
    assert plan == plan_of(MKV)  # kept, nothing skipped
    assert [o.key for o in outputs.list()] == ["a-1/captions/fr.vtt"]
    with outputs.open("a-1/captions/fr.vtt") as stream:
        assert parse_captions(stream.read()) == [CUE]


def test_an_unreadable_track_is_skipped_and_the_next_one_takes_its_key() -> None:
    conversion, _, outputs = _conversion({5: [CUE]})
    plan = conversion.apply(plan_of(TWO_FRENCH), "a-1", SOURCE, 10)
    assert [(s.index, s.reason) for s in plan.skipped] == [(4, "its text could not be read")]
    texts = [t for t in plan.tracks if t.type is TrackType.TEXT]
    assert [(t.index, t.language) for t in texts] == [(3, "en"), (5, "fr")]
    # keys follow the kept text tracks in order, as the job and the catalog name them
    assert [o.key for o in outputs.list()] == ["a-1/captions/fr.vtt"]


def test_an_upload_over_the_size_limit_is_not_read_and_its_ass_is_skipped_with_why() -> None:
    conversion, converter, outputs = _conversion({4: [CUE]}, max_source_bytes=9)
    plan = conversion.apply(plan_of(MKV), "a-1", SOURCE, 10)
    assert converter.reads == []
    ((index, reason),) = [(s.index, s.reason) for s in plan.skipped]
    assert index == 4 and "read only from uploads of up to" in reason
    assert list(outputs.list()) == []


def test_ffmpeg_plans_and_plans_without_ass_are_left_alone() -> None:
    conversion, converter, _ = _conversion({4: [CUE]})
    ffmpeg = plan_transcode(MKV, PRESETS)  # its text helper reads ASS itself
    assert conversion.apply(ffmpeg, "a-1", SOURCE, 10) is ffmpeg
    subrip_only = plan_of(replace(MKV, streams=MKV.streams[:3]))
    assert conversion.apply(subrip_only, "a-1", SOURCE, 10) is subrip_only
    assert converter.reads == []


def test_an_ass_packet_becomes_an_events_line_vodkits_parser_reads() -> None:
    line = dialogue(b"7,0,Default,,0,0,0,,{\\an8}Bonjour\nle {\\i1}monde", 61.234, 62.5)
    assert (
        line
        == b"Dialogue: 0,0:01:01.23,0:01:02.50,Default,,0,0,0,,{\\an8}Bonjour\\Nle {\\i1}monde\n"
    )
    header = EVENTS
    assert parse_captions(header + line) == [Cue(61.23, 62.5, "Bonjour\nle monde")]
    assert dialogue(b"no commas", 0, 1) == b"Dialogue: no commas\n"  # the parser names it
    # a hostile break cannot start a line of its own (a Format: line, another cue)
    forged = dialogue(b"1,0,Default,,0,0,0,,hi\rFormat: Text\r\nDialogue: x", 1, 2)
    assert forged.count(b"\n") == 1
    assert [c.text for c in parse_captions(header + forged)] == ["hi\nFormat: Text\nDialogue: x"]


def _orchestrator(conversion: TextConversion | None, uploads: MemoryObjectStore) -> Any:
    return IngestOrchestrator(
        uploads=uploads, catalog=MemoryCatalog(), prober=MemoryProber({b"the upload": MKV}),
        submitter=MemoryJobSubmitter(), presets=PRESETS, bus=InProcessEventBus(),
        rules=PlanningRules(encoder=MEDIACONVERT), text_conversion=conversion,
    )  # fmt: skip


def test_the_aws_ingest_submits_a_job_that_selects_the_webvtt_it_wrote() -> None:
    conversion, _, outputs = _conversion({4: [CUE]})
    orchestrator = _orchestrator(conversion, conversion.uploads)
    info = conversion.uploads.head(SOURCE)
    asset = orchestrator.handle(ObjectCreated("uploads", SOURCE, info.size, info.etag))
    assert asset.status is AssetStatus.PROCESSING and asset.skipped == ()
    (job,) = orchestrator.submitter.jobs.values()
    selectors = caption_selectors(job.plan, f"s3://outputs/{asset.asset_id}/")
    source = selectors["Captions Selector 2"]["SourceSettings"]
    assert source["FileSourceSettings"]["SourceFile"] == (
        f"s3://outputs/{asset.asset_id}/captions/fr.vtt"
    )
    assert [o.key for o in outputs.list()] == [f"{asset.asset_id}/captions/fr.vtt"]


def test_an_ingest_with_no_converter_skips_ass_rather_than_select_a_missing_file() -> None:
    uploads = MemoryObjectStore("uploads")
    info = uploads.put_stream(SOURCE, io.BytesIO(b"the upload"))
    orchestrator = _orchestrator(None, uploads)
    asset = orchestrator.handle(ObjectCreated("uploads", SOURCE, info.size, info.etag))
    assert asset.status is AssetStatus.PROCESSING
    assert [(s.index, s.reason) for s in asset.skipped] == [(4, NO_ASS_HERE)]
