"""Planning chunks: segment boundaries, the remainder, and hostile durations."""

from __future__ import annotations

from itertools import pairwise

import pytest

from vodkit.domain.chunks import MAX_CHUNKS, Chunk, check_chunk_seconds, plan_chunks
from vodkit.domain.errors import ConfigError, ErrorCode, InvalidInput, LimitExceeded


def spans(duration: float, chunk_seconds: int = 60) -> list[tuple[int, float, int]]:
    return [(c.start, c.end, c.first_segment) for c in plan_chunks(duration, 6, chunk_seconds)]


@pytest.mark.parametrize("duration", [0.04, 5.0, 60.0, 119.9, 120.0])
def test_up_to_two_chunks_long_is_one_pass(duration: float) -> None:
    assert plan_chunks(duration, 6) == (Chunk(0, 0, duration, 1),)


def test_exact_multiples_cut_at_every_chunk() -> None:
    assert spans(180.0) == [(0, 60, 1), (60, 120, 11), (120, 180.0, 21)]


def test_a_long_enough_remainder_is_a_chunk_of_its_own() -> None:
    assert spans(150.0) == [(0, 60, 1), (60, 120, 11), (120, 150.0, 21)]
    assert spans(31.84, 12) == [(0, 12, 1), (12, 24, 3), (24, 31.84, 5)]


@pytest.mark.parametrize("duration", [120.04, 121.0, 149.99, 180.000001])
def test_a_short_remainder_joins_the_last_chunk(duration: float) -> None:
    planned = spans(duration)
    assert planned[-1][1] == duration and planned[-1][0] == len(planned) * 60 - 60
    assert len(planned) == int(duration // 60)


def test_chunks_cover_the_title_exactly_at_segment_boundaries() -> None:
    for duration in (121.5, 437.123, 3600.0, 7261.7):
        chunks = plan_chunks(duration, 6, 30)
        assert chunks[0].start == 0 and chunks[-1].end == duration
        for before, after in pairwise(chunks):
            assert before.end == after.start and after.start % 6 == 0
            assert after.first_segment == before.first_segment + 5
            assert after.index == before.index + 1
        assert all(c.seconds > 0 for c in chunks)
        assert max(c.seconds for c in chunks) < 45


@pytest.mark.parametrize("duration", [0.0, -1.0, float("nan"), float("inf"), float("-inf")])
def test_a_hostile_duration_is_refused(duration: float) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_chunks(duration, 6)
    assert raised.value.code == ErrorCode.NO_DURATION


def test_an_absurd_duration_is_bounded() -> None:
    with pytest.raises(LimitExceeded):
        plan_chunks(6.0 * (MAX_CHUNKS + 2), 6, 6)


@pytest.mark.parametrize(("chunk", "segment"), [(50, 6), (3, 6), (0, 6), (-6, 6), (12, 0)])
def test_chunk_seconds_must_be_whole_segments(chunk: int, segment: int) -> None:
    with pytest.raises(ConfigError, match=r"must be|not a multiple"):
        check_chunk_seconds(chunk, segment)
    with pytest.raises(ConfigError):
        plan_chunks(600.0, segment, chunk)


def test_a_chunk_of_one_segment_is_allowed() -> None:
    assert [c.first_segment for c in plan_chunks(20.0, 6, 6)] == [1, 2, 3]
