"""The text converter port (the AWS ingest's reader of ASS/SSA tracks): the fake and PyAV on
a real MKV (bigbuckbunny with a French ASS track) answer alike; a track that cannot be read
is skipped with its reason, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.captioned import EXPECTED, captioned_sources
from vodkit.adapters.transcoder.base import TextConverter
from vodkit.adapters.transcoder.memory import MemoryTextConverter
from vodkit.adapters.transcoder.pyav_text import PyavTextConverter
from vodkit.domain.captions import Cue
from vodkit.domain.tracks import Track, TrackType

FRENCH = Track(TrackType.TEXT, "fr", "Français", codec="ass", index=4)
ABSENT = Track(TrackType.TEXT, "de", "Deutsch", codec="ass", index=9)  # no such stream


@pytest.fixture(params=["memory", "pyav"])
def converter(request: pytest.FixtureRequest) -> TextConverter:
    if request.param == "pyav":
        return PyavTextConverter()
    start, text = EXPECTED["fr"]
    return MemoryTextConverter({4: [Cue(start, 3.0, text)]})


def test_a_track_is_read_and_one_that_cannot_be_is_skipped(
    converter: TextConverter, tmp_path: Path
) -> None:
    mkv = captioned_sources(tmp_path)["mkv"]
    found = converter.convert(mkv, "matroska", [FRENCH, ABSENT])
    assert list(found.cues) == [4]
    ((cue,),) = found.cues.values()
    assert (cue.start, cue.text) == EXPECTED["fr"]
    assert [(s.index, s.language, s.codec) for s in found.skipped] == [(9, "de", "ass")]
    assert found.skipped[0].reason
