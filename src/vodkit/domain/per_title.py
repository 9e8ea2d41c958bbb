"""The per-title model: from sample encodes to each rung's CRF, and the rungs worth keeping.

Pure: the samples are encoded and scored elsewhere (``services.analysis``). ``choose_crf``
picks a rung's CRF from probes scored by VMAF, ``convex_hull`` drops rungs that add
nothing, ``apply_analysis`` writes the choices into the plan, and ``fallback`` turns a plan
back to constant bitrate when the analysis cannot run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .plan import CBR, TranscodePlan, VideoRendition

# Per-title: CRFs the search may land on, and how it steps from its first probe.
FIRST_CRF = 23
CRF_RANGE = (14, 40)
EXTRAPOLATION = 4  # CRFs beyond the probed ones a prediction may reach
VMAF_PER_CRF = 0.8  # a first guess of the slope, before a second probe measures it
AT_CAP = 0.9  # a probe spending this share of its cap is held by it
KNEE = 0.5  # where no CRF reaches the target: VMAF points not worth the bits they cost
HULL_BITRATE = 0.85  # a rung within 15 % of a larger rung's bitrate adds nothing
HULL_VMAF = 1.0  # nor one less than a VMAF point below it: within the samples' noise
HELD_BELOW = 1.0  # a top rung held by its cap scores this far below its target there: a
# constant bitrate at the cap is not the best the cap allows (the slide show's 94.9 at its
# 2 Mb/s cap against 95.0 at CRF 18 and 1.2 Mb/s), and the samples' noise is about a point
SAMPLED_SHARE = 0.1  # samples cover at most this share of a source, beyond MIN_SAMPLES
MIN_SAMPLES = 2  # one sample mispredicted a 5 s clip's top rung by 2.6 VMAF points


class AnalysisFailed(Exception):
    """The per-title analysis could not run; the encode falls back to constant bitrate."""


@dataclass(frozen=True)
class Probe:
    """One sample encode of a rung at a CRF (None: at its cap, constant bitrate): its
    bitrate and VMAF over every sample."""

    crf: int | None
    bitrate: int
    vmaf: float


def sample_windows(duration: float, samples: int, seconds: int) -> tuple[tuple[float, int], ...]:
    """(start, length) of up to ``samples`` windows spread evenly over the source, covering
    at most a tenth of it (SAMPLED_SHARE: on a short source the samples are a fixed cost the
    encode does not amortise) beyond the first two (fewer mispredict); as many as fit in a
    shorter source, none if it is shorter than one window."""
    if seconds <= 0:
        return ()
    wanted = max(MIN_SAMPLES, int(duration * SAMPLED_SHARE // seconds))
    count = min(samples, wanted, int(duration // seconds))
    windows = []
    for k in range(count):
        centre = duration * (k + 0.5) / count
        windows.append((round(min(max(0.0, centre - seconds / 2), duration - seconds), 3), seconds))
    return tuple(windows)


@dataclass(frozen=True)
class Slopes:
    """How VMAF and log2 bitrate move per CRF step, as a rung's two probes measured them."""

    vmaf: float = -VMAF_PER_CRF
    log2_bitrate: float = -1 / 6  # x264 halves its bits about every 6 CRF

    @classmethod
    def between(cls, a: Probe, b: Probe, cap: int) -> Slopes:
        """Measured between two probes, unless the cap flattened them (then the defaults)."""
        if a.crf is None or b.crf is None or a.crf == b.crf:
            return cls()
        if max(a.bitrate, b.bitrate) >= AT_CAP * cap:
            return cls()
        steps = b.crf - a.crf
        return cls(
            vmaf=min((b.vmaf - a.vmaf) / steps, -0.05),
            log2_bitrate=min((math.log2(b.bitrate) - math.log2(a.bitrate)) / steps, -0.02),
        )


def _model(probes: list[Probe], crf: int, value: str, slopes: Slopes | None = None) -> float:
    """VMAF (linear in CRF) or log2 bitrate (linear in CRF) at ``crf``, interpolated between
    probes, extrapolated from the nearest two; from one probe, along ``slopes``."""
    points = sorted(
        {
            (p.crf, p.vmaf if value == "vmaf" else math.log2(max(p.bitrate, 1)))
            for p in probes
            if p.crf is not None
        }
    )
    if len(points) == 1:
        slopes = slopes or Slopes()
        (c0, v0) = points[0]
        return v0 + (slopes.vmaf if value == "vmaf" else slopes.log2_bitrate) * (crf - c0)
    index = next((i for i in range(1, len(points)) if crf <= points[i][0]), len(points) - 1)
    (c0, v0), (c1, v1) = points[index - 1], points[index]
    return v0 + (v1 - v0) * (crf - c0) / (c1 - c0)


def next_crf(first: Probe, target: float, cap: int) -> int:
    """Where the second probe goes: towards the target, from what the first one scored."""
    low, high = CRF_RANGE
    assert first.crf is not None
    if first.vmaf >= target:
        step = min(max(round((first.vmaf - target) / VMAF_PER_CRF), 2), 12)
        return min(first.crf + step, high)
    if first.bitrate >= AT_CAP * cap:  # the cap holds it: lower CRFs buy little
        return max(first.crf - 4, low)
    step = min(max(round((target - first.vmaf) / VMAF_PER_CRF), 2), 8)
    return max(first.crf - step, low)


@dataclass(frozen=True)
class Choice:
    crf: int
    vmaf: float
    bitrate: int
    reached: bool  # the target is reached under the cap
    stretched: bool = False  # short of its target, as far as one probe lets it predict


def held(probe: Probe, target: float, cap: int) -> bool:
    """A first probe below its target while spending (nearly) all of its cap: lower CRFs
    could only spend the last tenth of the cap, so the rung is encoded at the cap."""
    return probe.vmaf < target and probe.bitrate >= AT_CAP * cap


def cap_holds(capped: Probe, target: float) -> bool:
    """The top rung's probe at its cap shows no CRF can reach its target under the cap."""
    return capped.vmaf < target - HELD_BELOW


def at_cap(capped: Probe, cap: int) -> Choice:
    """A held rung: constant bitrate at the cap, predicted by its own constant-bitrate
    probe. (A capped-CRF probe says less: on a few seconds of samples the two-second
    buffer lets it spend well above the cap, and score above what the cap gives.) Its CRF
    is moot: a held rung is encoded at constant bitrate."""
    return Choice(FIRST_CRF, round(capped.vmaf, 2), cap, False)


def choose_crf(
    probes: list[Probe], target: float, cap: int, slopes: Slopes | None = None
) -> Choice:
    """The highest CRF (fewest bits) predicted to reach ``target``, never above ``cap``
    (from one probe: along ``slopes``, the top rung's, for up to EXTRAPOLATION CRFs).
    Where no CRF can: from two probes, the highest one within half a point of the best the
    cap allows (the knee, measured); from one, which cannot tell where more bits stop
    paying, the cap, as QVBR spends it (or the lowest CRF it predicts for, short of it)."""
    crfs = [p.crf for p in probes if p.crf is not None]
    measured_curve = len(set(crfs)) > 1  # else one probe, along the top rung's slopes
    low = max(CRF_RANGE[0], min(crfs) - EXTRAPOLATION)
    high = min(CRF_RANGE[1], max(crfs) + EXTRAPOLATION)
    best_measured = max(p.vmaf for p in probes)
    predictions = []
    for crf in range(low, high + 1):
        vmaf = _model(probes, crf, "vmaf", slopes)
        if measured_curve and crf < min(crfs):  # below both, the cap and VMAF's ceiling
            vmaf = min(vmaf, best_measured + 1.0)  # flatten what the two measured
        bitrate = min(cap, round(2 ** _model(probes, crf, "bitrate", slopes)))
        predictions.append(Choice(crf, round(min(max(vmaf, 0.0), 100.0), 2), bitrate, True))
    reached = [c for c in predictions if c.vmaf >= target]
    if reached:
        return reached[-1]
    if not measured_curve:
        spent = [c for c in predictions if c.bitrate >= AT_CAP * cap]
        return (
            replace(spent[-1], reached=False)
            if spent
            else replace(predictions[0], reached=False, stretched=True)
        )
    best = min(max(c.vmaf for c in predictions), best_measured)
    knee = [c for c in predictions if c.vmaf >= best - KNEE]
    return replace(knee[-1] if knee else predictions[0], reached=False)


def convex_hull(
    rungs: list[VideoRendition], reached: dict[str, bool] | None = None
) -> tuple[list[VideoRendition], list[VideoRendition]]:
    """(kept, dropped). A rung adds nothing if its predicted bitrate is within 15 % of the
    next larger kept rung's (or above it): switching down would barely save bandwidth. Or
    if its predicted VMAF is not below that rung's while that rung reaches its target: the
    larger rung is then cheap enough for the content, and the smaller one only loses
    detail; "not below" allows for less than a point (HULL_VMAF), below what the samples can
    tell apart. (A larger rung held by its cap is starved, not cheap: the smaller one stays as
    the fallback for slower networks.) ``rungs`` come largest first; the first is kept."""
    kept: list[VideoRendition] = []
    dropped: list[VideoRendition] = []
    for rung in rungs:
        larger = kept[-1] if kept else None
        if larger is None or rung.predicted_bitrate is None or larger.predicted_bitrate is None:
            kept.append(rung)
        elif rung.predicted_bitrate >= HULL_BITRATE * larger.predicted_bitrate:
            dropped.append(
                replace(
                    rung,
                    verdict=f"dropped: its {rung.predicted_bitrate // 1000} kb/s is within 15 % "
                    f"of {larger.name}'s {larger.predicted_bitrate // 1000} kb/s",
                )
            )
        elif (rung.predicted_vmaf or 0) > (larger.predicted_vmaf or 0) - HULL_VMAF and (
            reached is None or reached.get(larger.name, True)
        ):
            dropped.append(
                replace(
                    rung,
                    verdict=f"dropped: VMAF {rung.predicted_vmaf:g} is not below "
                    f"{larger.name}'s {larger.predicted_vmaf:g}",
                )
            )
        else:
            kept.append(rung)
    return kept, dropped


def _crf_for_file(video: VideoRendition, rungs: tuple[VideoRendition, ...]) -> int | None:
    """A progressive file gets the CRF of the rung of its size (else the top rung's)."""
    same = next((r for r in rungs if (r.width, r.height) == (video.width, video.height)), None)
    return (same or rungs[0]).crf


def apply_analysis(
    plan: TranscodePlan, choices: dict[str, Choice], samples: int, seconds: int
) -> TranscodePlan:
    """The plan with each rung's chosen CRF and prediction, redundant rungs dropped."""
    assert plan.per_title is not None
    chosen = []
    for index, rung in enumerate(plan.video):
        choice = choices[rung.name]
        target = plan.per_title.targets[min(index, len(plan.per_title.targets) - 1)]
        # A rung whose cap holds it gains nothing from CRF: it spends the cap as a constant
        # bitrate, which keeps its average at the cap (capped CRF overshoots it by up to
        # the buffer early on) and its quality what the cap allows.
        capped = not choice.reached and choice.bitrate >= AT_CAP * rung.bitrate
        predicted = f"predicted VMAF {choice.vmaf:g} (target {target:g})"
        cap = f"{rung.bitrate // 1000} kb/s cap"
        if choice.reached:
            verdict = f"CRF {choice.crf}: {predicted} at ~{choice.bitrate // 1000} kb/s"
        elif capped:
            verdict = f"held by the {cap}: constant bitrate at the cap, {predicted}"
        elif choice.stretched:  # short of the target as far as one probe can predict
            verdict = (
                f"CRF {choice.crf} at ~{choice.bitrate // 1000} kb/s (under the {cap}), "
                f"{predicted}: the lowest CRF one probe can predict, {EXTRAPOLATION} below "
                "it, is still short of the target"
            )
        else:  # the knee: the cap leaves room, but more bits would buy too little
            verdict = (
                f"CRF {choice.crf} at ~{choice.bitrate // 1000} kb/s (under the {cap}), "
                f"{predicted}: the target is out of reach, and more bits would add under "
                f"{KNEE:g} point"
            )
        chosen.append(
            replace(
                rung,
                crf=None if capped else choice.crf,
                predicted_vmaf=choice.vmaf,
                predicted_bitrate=choice.bitrate,
                verdict=verdict,
            )
        )
    kept, dropped = convex_hull(chosen, {name: c.reached for name, c in choices.items()})
    used = {r.audio for r in kept}
    files = tuple(
        replace(f, video=replace(f.video, crf=_crf_for_file(f.video, tuple(kept))))
        for f in plan.files
    )
    return replace(
        plan,
        video=tuple(kept),
        dropped=tuple(dropped),
        audio=tuple(a for a in plan.audio if a.group_id in used),  # every track of a group
        files=files,
        per_title=None,
        analysis=f"per-title: {len(kept)} of {len(chosen)} rungs kept, from {samples} "
        f"samples of {seconds} s",
    )


def fallback(plan: TranscodePlan, reason: str) -> TranscodePlan:
    """The plan at constant bitrate (every cap spent), saying why."""
    verdict = f"constant bitrate: {reason}"
    return replace(
        plan,
        video=tuple(replace(v, crf=None, verdict=verdict) for v in plan.video),
        files=tuple(replace(f, video=replace(f.video, crf=None)) for f in plan.files),
        rate_control=CBR,
        per_title=None,
        analysis=verdict,
    )
