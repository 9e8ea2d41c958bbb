"""The interlace verdict: declared fields, else the pictures' combing (domain.interlace).

The figures are fieldmatch's medians measured on the corpus in bench/README.md (section
"Interlace"), where idet's counts called progressive testsrc2 woven."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.transcoder.vmaf import combing_of
from vodkit.domain.interlace import Combing, judge
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.media import VideoInfo
from vodkit.domain.per_title import AnalysisFailed
from vodkit.domain.plan import TranscodePlan
from vodkit.services.analysis import SourceAnalysis

PROGRESSIVE = {  # c, then p n u b
    "testsrc2-720p30": (63, (512, 630, 630, 512)),
    "testsrc2-720p60": (63, (128, 256, 256, 128)),
    "mandelbrot-1080p25": (62, (168, 165, 163, 168)),
    "life-720p60": (26, (34, 32, 32, 34)),
    "bars-scrolling-text-720p60": (0, (199, 203, 200, 199)),
    "bigbuckbunny": (0, (839, 832, 832, 839)),
}
WOVEN = {
    "testsrc2-1080i25": (570, (448, 416, 416, 448)),
    "testsrc2-720i30": (256, (128, 772, 772, 128)),
    "scrolling-text": (227, (218, 276, 276, 222)),
    "bikes": (583, (593, 881, 947, 593)),
}


@pytest.mark.parametrize("name", PROGRESSIVE)
def test_progressive_pictures_are_kept_progressive(name: str) -> None:
    frame, reweaves = PROGRESSIVE[name]
    verdict = judge("progressive", Combing(frame, reweaves))
    assert not verdict.interlaced
    assert verdict.reason.startswith("progressive: declared progressive and the pictures show")


@pytest.mark.parametrize("order", ["progressive", ""])
@pytest.mark.parametrize("name", WOVEN)
def test_woven_pictures_are_interlaced_whatever_the_stream_says(name: str, order: str) -> None:
    frame, reweaves = WOVEN[name]
    verdict = judge(order, Combing(frame, reweaves))
    assert verdict.interlaced, verdict.reason
    assert "but the pictures are woven (combing score" in verdict.reason


def test_declared_fields_are_deinterlaced_without_looking() -> None:
    verdict = judge("bb", None)
    assert (
        verdict.interlaced and verdict.reason == "interlaced: the stream declares its fields (bb)"
    )


def test_still_pictures_say_nothing_and_stay_progressive() -> None:
    verdict = judge("progressive", Combing(64, (64, 64, 64, 64)))  # testsrc2, one frame held
    assert not verdict.interlaced and "barely move" in verdict.reason


def test_fieldmatch_log_is_read_as_medians() -> None:
    log = "\n".join(
        f"[Parsed_fieldmatch_1 @ 0x1] COMBS: {p} {c} 9 8 7" for p, c in [(1, 5), (2, 6), (3, 70)]
    )
    assert combing_of(log) == Combing(frame=6, reweaves=(2, 9, 8, 7))
    with pytest.raises(AnalysisFailed):
        combing_of("no such lines")


class Samples:
    def __init__(self, combing: Combing | None) -> None:
        self.found = combing
        self.asked = 0

    def start(self, check: object = None) -> None:
        pass

    def combing(self, plan: TranscodePlan, source: Path, workdir: Path) -> Combing:
        self.asked += 1
        if self.found is None:
            raise AnalysisFailed("fieldmatch reported no combing")
        return self.found

    def probe(self, *args: object) -> list[object]:
        raise AssertionError("no per-title analysis in these plans")


def analysed(field_order: str, samples: Samples) -> TranscodePlan:
    video = VideoInfo(codec="h264", width=1920, height=1080, fps=25.0, field_order=field_order)
    plan = replace(plan_transcode(replace(HD, video=video), load_presets()), per_title=None)
    return SourceAnalysis(samples).prepare(plan, Path("/nonexistent"), Path("/tmp/unused"))


def test_the_verdict_and_its_reason_reach_the_assets_renditions() -> None:
    woven = analysed("progressive", Samples(Combing(570, (448, 416, 416, 448))))
    assert woven.interlaced is True
    rows = woven.summary()
    assert all(r["interlace"] == woven.interlace for r in rows)
    assert woven.interlace.startswith("interlaced: declared progressive but the pictures are")
    clean = analysed("progressive", Samples(Combing(63, (512, 630, 630, 512))))
    assert clean.interlaced is False and clean.summary()[0]["interlace"] == (
        "progressive: declared progressive and the pictures show no combing "
        "(combing score 0.12 < 0.9)"
    )
    restored = TranscodePlan.from_dict(woven.to_dict())
    assert (restored.interlace, restored.interlaced) == (woven.interlace, True)


def test_declared_fields_skip_the_measure_and_a_failed_one_keeps_progressive() -> None:
    samples = Samples(None)
    assert analysed("tt", samples).interlaced is True and samples.asked == 0
    failed = analysed("", samples)
    assert failed.interlaced is False and samples.asked == 1
    assert "fields not declared; the pictures could not be examined" in failed.interlace
