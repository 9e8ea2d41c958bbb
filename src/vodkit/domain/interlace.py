"""Progressive or woven: decided from what the stream declares and, where it does not
declare its fields, from its pictures.

A stream that declares its fields (``tt``, ``bb``, ``tb``, ``bt``) is interlaced. Any other
(most say "progressive" whatever they hold: a woven source encoded without field flags says
it too) is judged by its combing. FFmpeg's ``fieldmatch`` counts combed pixels (the
IsCombed test: a line unlike both lines of the other field around it, in the same
direction, while its own field's lines agree) in the worst 32x32 block, for the frame as
it is and for its fields re-woven with the neighbouring frames' (p, n, u, b). A progressive
frame with motion is far less combed than any re-weave of its fields: its two fields
belong together. A woven frame is combed about as much as the best re-weave: its fields
are a field period apart either way. The ratio of the two (``score``) keeps the margins
written in bench/README.md on the test corpus, where ``idet``'s frame counts call
progressive ``testsrc2`` woven on 41 frames of 41.
"""

from __future__ import annotations

from dataclasses import dataclass

DECLARED = ("tt", "bb", "tb", "bt")
WOVEN_AT = 0.9  # woven: the frame is combed at least this much of its best re-weave
MOVING_AT = 0.1  # weaves differing by less (relative spread) show no motion: nothing to see


@dataclass(frozen=True)
class Combing:
    """Combed-pixel counts (medians over the frames looked at): the frame as it is, and its
    fields re-woven with its neighbours'."""

    frame: float
    reweaves: tuple[float, ...]

    @property
    def score(self) -> float:
        """The frame's combing against its least combed re-weave: about 1 when woven."""
        return self.frame / max(min(self.reweaves, default=0.0), 1.0)

    @property
    def motion(self) -> float:
        """How much the weaves differ (0: the pictures do not move, and say nothing)."""
        every = (self.frame, *self.reweaves)
        top = max(every)
        return (top - min(every)) / top if top > 0 else 0.0


@dataclass(frozen=True)
class Verdict:
    interlaced: bool
    reason: str  # shown on the asset: which way it went and why


def declared(field_order: str) -> Verdict | None:
    """The stream's own word, when it declares its fields; None: the pictures must say."""
    if field_order in DECLARED:
        return Verdict(True, f"interlaced: the stream declares its fields ({field_order})")
    return None


def judge(field_order: str, combing: Combing | None, failure: str = "") -> Verdict:
    """Interlaced if declared so; else woven only if the moving pictures are combed as
    much as their fields re-woven."""
    found = declared(field_order)
    if found is not None:
        return found
    said = "declared progressive" if field_order == "progressive" else "fields not declared"
    if combing is None:
        return Verdict(
            False, f"progressive: {said}; the pictures could not be examined ({failure})"
        )
    score = f"combing score {combing.score:.2f}"
    if combing.motion < MOVING_AT:
        return Verdict(
            False,
            f"progressive: {said} and the pictures barely move "
            f"(motion {combing.motion:.2f} < {MOVING_AT:g}): nothing to deinterlace",
        )
    if combing.score >= WOVEN_AT:
        return Verdict(
            True, f"interlaced: {said} but the pictures are woven ({score} >= {WOVEN_AT:g})"
        )
    return Verdict(
        False, f"progressive: {said} and the pictures show no combing ({score} < {WOVEN_AT:g})"
    )
