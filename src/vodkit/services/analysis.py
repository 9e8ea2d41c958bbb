"""Before the encode: deciding what the plan left open, from the source itself.

- **Interlace.** A stream that declares its fields is deinterlaced (``bwdif``) before
  scaling; any other (most say "progressive" whatever their pictures hold) is judged by its
  combing (``domain.interlace``). The verdict and its reason go on the asset.
- **HDR10 peak.** A PQ source whose metadata gives no peak (MaxCLL, mastering display) has
  it measured on a few decoded frames: the tone map starts from the content's own peak.
- **Per-title ladder** (``rateControl: QVBR`` with ``perTitle``). Samples spread over the
  source (three of two seconds by default, beyond two at most a tenth of the source) are
  encoded with the real encode's settings and scored by VMAF against the source at the top
  rung's display size. The first run encodes the top rung (most of the bits) at its cap
  and each smaller rung at a first CRF. If the top rung scores over a point below its target
  at its cap, no CRF reaches it under the cap: it spends its cap, and that probe is the VMAF
  it is shown (the early stop, one probe; on real footage held by its cap, most sources at
  the default caps). Otherwise it gets its CRF search: a first CRF, then a second chosen
  from what the first scored. The smaller rungs follow the slopes its two probes measured.
  Each rung gets the highest CRF predicted to reach its target VMAF under its cap
  (``per_title.choose_crf``); one that cannot spends its cap (a smaller one whose first
  probe spends its cap gets a probe there), but where the top rung's two probes show more
  bits buying too little; rungs that add nothing are dropped (``per_title.convex_hull``).

It fails safe: if the analysis cannot run (no sample encoder here, a source shorter than
one sample, libvmaf missing or failing, the time limit hit), the plan is encoded at
constant bitrate and says why (``per_title.fallback``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..domain.interlace import Combing, Verdict, declared, judge
from ..domain.per_title import (
    AT_CAP,
    FIRST_CRF,
    AnalysisFailed,
    Probe,
    Slopes,
    apply_analysis,
    at_cap,
    cap_holds,
    choose_crf,
    fallback,
    held,
    next_crf,
    sample_windows,
)
from ..domain.plan import TranscodePlan

log = logging.getLogger(__name__)
WORKDIR = "analysis"  # under the job's work directory; never published


@runtime_checkable
class SampleEncoder(Protocol):
    """What a transcoder offers to analyse a source (FFmpeg's: ``FfmpegSampleEncoder``)."""

    def start(self, check: Callable[[], object] = lambda: None) -> None:
        """Start the analysis's clock (its time limit covers every call after this); ``check``
        is called while FFmpeg runs, and stops the analysis (FFmpeg killed) by raising."""
        ...

    def combing(self, plan: TranscodePlan, source: Path, workdir: Path) -> Combing:
        """How combed the source's pictures are. Raises AnalysisFailed."""
        ...

    def probe(
        self,
        plan: TranscodePlan,
        source: Path,
        workdir: Path,
        windows: tuple[tuple[float, int], ...],
        probes: list[tuple[int, int | None]],
    ) -> list[Probe]:
        """Encode the samples for each (rung index, CRF; None: constant bitrate at the
        rung's cap) and score them: one Probe each.
        Raises AnalysisFailed."""
        ...


@runtime_checkable
class PeakMeter(Protocol):
    """A sample encoder that measures an HDR10 source's peak (FFmpeg's does)."""

    def measure_peak(self, plan: TranscodePlan, source: Path, workdir: Path) -> float:
        """The content's peak in nits (at least SDR white); raises AnalysisFailed."""
        ...


@runtime_checkable
class AnalysingTranscoder(Protocol):
    """A transcoder that carries a SampleEncoder (``FfmpegTranscoder.samples``)."""

    @property
    def samples(self) -> SampleEncoder: ...


def encoder_of(transcoder: object) -> SampleEncoder | None:
    """The transcoder's sample encoder, if it has one (fakes and MediaConvert do not)."""
    if isinstance(transcoder, AnalysingTranscoder):
        return transcoder.samples
    return None


Report = Callable[[str, float], object]  # (phase, its percent)


class SourceAnalysis:
    def __init__(self, encoder: SampleEncoder | None) -> None:
        self.encoder = encoder
        self._report: Report = lambda phase, percent: None
        self._encodes = (0, 1)  # sample encodes (done, planned): the analysing phase's percent

    def prepare(
        self,
        plan: TranscodePlan,
        source: Path,
        workdir: Path,
        check: Callable[[], object] = lambda: None,
        report: Report = lambda phase, percent: None,
    ) -> TranscodePlan:
        """The plan with nothing left open: interlace known, per-title CRFs chosen (or the
        fallback to constant bitrate, with its reason). ``check`` raises to stop it;
        ``report`` hears its phase (probing, then analysing) and the phase's percent."""
        work = workdir / WORKDIR
        self._report = report
        try:
            if self.encoder is not None:
                self.encoder.start(check)
            if plan.interlaced is not False:
                verdict = self._interlace(plan, source, work)
                plan = replace(plan, interlaced=verdict.interlaced, interlace=verdict.reason)
            if plan.tonemap == "pq" and not plan.tonemap_peak:
                plan = replace(plan, tonemap_peak=self._peak(plan, source, work))
            if plan.per_title is not None:
                report("analysing", 0.0)
                plan = self._per_title(plan, source, work)
        finally:
            _remove(work)
        return plan

    def _interlace(self, plan: TranscodePlan, source: Path, work: Path) -> Verdict:
        verdict = declared(plan.field_order)
        if verdict is None and plan.interlaced:  # a plan made before field_order was kept
            verdict = Verdict(True, "interlaced: as planned")
        if verdict is None:
            try:
                if self.encoder is None:
                    raise AnalysisFailed("no sample encoder here")
                verdict = judge(plan.field_order, self.encoder.combing(plan, source, work))
            except AnalysisFailed as exc:
                log.warning("interlace detection failed (%s): taken as progressive", exc)
                verdict = judge(plan.field_order, None, str(exc))
        log.info("%s", verdict.reason)
        return verdict

    def _peak(self, plan: TranscodePlan, source: Path, work: Path) -> float:
        meter: object = self.encoder
        if not isinstance(meter, PeakMeter):
            return 0.0  # the tone map assumes HDR10's usual mastering peak
        try:
            peak = meter.measure_peak(plan, source, work)
        except AnalysisFailed as exc:
            log.warning("the HDR peak could not be measured (%s): a usual peak assumed", exc)
            return 0.0
        log.info("HDR10 without a peak in its metadata: measured %g nits", peak)
        return peak

    def _per_title(self, plan: TranscodePlan, source: Path, work: Path) -> TranscodePlan:
        per_title = plan.per_title
        assert per_title is not None
        if self.encoder is None:
            return fallback(plan, "no sample encoder here to run the per-title analysis")
        windows = sample_windows(plan.duration, per_title.samples, per_title.sample_seconds)
        if not windows:
            return fallback(
                plan,
                f"the source ({plan.duration:g} s) is shorter than one "
                f"{per_title.sample_seconds} s sample",
            )
        last = len(per_title.targets) - 1
        targets = [per_title.targets[min(i, last)] for i in range(len(plan.video))]
        rungs = plan.video
        top_cap = (0, None)
        smaller = [(i, FIRST_CRF) for i in range(1, len(rungs))]
        top_probes: list[Probe] = []
        try:
            # The top rung (most of the bits) at its cap first, in one run with the smaller
            # rungs' first probes: if it scores over a point below its target there, no CRF
            # can reach it under the cap, and it spends its cap (the early stop: no CRF
            # search, and this probe is the VMAF it is shown). Else its CRF search.
            self._encodes = (0, len(rungs) + 2)
            found = self._probe(plan, source, work, windows, [top_cap, *smaller])
            capped_top = cap_holds(found[top_cap], targets[0])
            first = [found[probe] for probe in smaller]
            capped = [
                i for i in range(1, len(rungs)) if held(first[i - 1], targets[i], rungs[i].bitrate)
            ]
            # Every held smaller rung at its cap, as it will be encoded.
            at_caps: list[tuple[int, int | None]] = [(i, None) for i in capped]
            if capped_top:
                self._encodes = (self._encodes[0], self._encodes[0] + len(at_caps))
                found |= self._probe(plan, source, work, windows, at_caps)
            else:
                self._encodes = (self._encodes[0], self._encodes[0] + 2 + len(at_caps))
                top_first = (0, FIRST_CRF)
                top_probes = [*self._probe(plan, source, work, windows, [top_first]).values()]
                top_second = (0, next_crf(top_probes[0], targets[0], rungs[0].bitrate))
                more = self._probe(plan, source, work, windows, [top_second, *at_caps])
                top_probes.append(more.pop(top_second))
                found |= more
        except AnalysisFailed as exc:
            log.warning("per-title analysis failed: %s; constant bitrate instead", exc)
            return fallback(plan, f"the per-title analysis failed: {exc}")
        for probe in top_probes:
            log.debug("per-title %s: %s", rungs[0].name, probe)
        for (i, _), probe in found.items():
            log.debug("per-title %s: %s", rungs[i].name, probe)
        slopes = (
            Slopes.between(top_probes[0], top_probes[1], rungs[0].bitrate)
            if len(top_probes) == 2
            else Slopes()
        )
        choices = {}
        for i, rung in enumerate(rungs):
            if i == 0 and capped_top:
                choices[rung.name] = at_cap(found[top_cap], rung.bitrate)
            elif i == 0:
                choice = choose_crf(top_probes, targets[0], rung.bitrate, slopes)
                if not choice.reached and choice.bitrate >= AT_CAP * rung.bitrate:
                    choice = at_cap(found[top_cap], rung.bitrate)  # it measured the cap
                choices[rung.name] = choice
            elif i in capped:
                choices[rung.name] = at_cap(found[(i, None)], rung.bitrate)
            else:  # smaller rungs follow the top rung's measured slopes from their own probe
                choices[rung.name] = choose_crf([first[i - 1]], targets[i], rung.bitrate, slopes)
        analysed = apply_analysis(plan, choices, len(windows), per_title.sample_seconds)
        log.info("%s", analysed.analysis)
        return analysed

    def _probe(
        self,
        plan: TranscodePlan,
        source: Path,
        work: Path,
        windows: tuple[tuple[float, int], ...],
        probes: list[tuple[int, int | None]],
    ) -> dict[tuple[int, int | None], Probe]:
        """One run of the sample encoder (none for no probes): each probe's result."""
        assert self.encoder is not None
        if not probes:
            return {}
        found = self.encoder.probe(plan, source, work, windows, probes)
        done, planned = self._encodes[0] + len(probes), self._encodes[1]
        self._encodes = (done, max(planned, done))
        self._report("analysing", round(100.0 * done / max(planned, done), 1))
        return dict(zip(probes, found, strict=True))


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
