"""The AWS ingest's reader of ASS/SSA tracks (PyAV in a sandboxed child) on a real MKV made
from bigbuckbunny: the cue at its time, the size cap, and a file that is not media."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.captioned import EXPECTED, captioned_sources
from vodkit.adapters.transcoder.pyav_text import PyavTextConverter
from vodkit.domain.tracks import TextKind, Track, TrackLimits, TrackType

pytestmark = pytest.mark.integration
FRENCH = Track(TrackType.TEXT, "fr", "Français", kind=TextKind.CAPTIONS, codec="ass", index=4)


def test_the_ass_track_is_read_at_its_times_and_its_text_stripped(tmp_path: Path) -> None:
    mkv = captioned_sources(tmp_path)["mkv"]
    found = PyavTextConverter().convert(mkv, "matroska", [FRENCH])
    assert found.skipped == ()
    ((cue,),) = found.cues.values()
    assert (cue.start, cue.end, cue.text) == (EXPECTED["fr"][0], 3.0, EXPECTED["fr"][1])


def test_a_track_past_the_size_cap_is_skipped_with_why(tmp_path: Path) -> None:
    mkv = captioned_sources(tmp_path)["mkv"]
    found = PyavTextConverter(TrackLimits(max_caption_bytes=64)).convert(mkv, "matroska", [FRENCH])
    assert found.cues == {}
    assert [s.reason for s in found.skipped] == ["its text is larger than 64 bytes"]


def test_a_file_that_is_not_matroska_skips_its_tracks_and_raises_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00not media" * 1000)
    found = PyavTextConverter().convert(junk, "matroska", [FRENCH])
    assert found.cues == {}
    ((index, reason),) = [(s.index, s.reason) for s in found.skipped]
    assert index == 4 and reason.startswith("its text could not be read (the reader stopped")
