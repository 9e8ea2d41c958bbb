"""Rungs stitched from chunks play across every join (issue 28): hls.js, dash.js and Shaka
Player on the seams test's three minutes in 30 s chunks (``tests/seams.py``: the rungs
joined, the audio encoded once, whole, and vodkit's own master and MPD)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_playback import _page_result, browser, site  # noqa: F401 - fixtures
from tests.seams import Seams

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stitched(site: tuple[str, Path], seams: Seams) -> list[int]:  # noqa: F811
    """The stitched output under ``/seams/``; the joins' times."""
    shutil.copytree(seams.stitched, site[1] / "seams")
    return seams.joins


@pytest.mark.parametrize("player", ["hls", "dash", "shaka"])
def test_the_stitched_stream_plays_across_every_join_without_a_stall(
    browser: Any,  # noqa: F811
    site: tuple[str, Path],  # noqa: F811
    stitched: list[int],
    player: str,
) -> None:
    assert stitched == [30, 60, 90, 120, 150]
    # play 1 s, then jump to 2 s before each join in turn (time to buffer what follows:
    # a wait there is the join's) and play on to 0.5 s past it
    seeks = ",".join(f"{join - 2}" for join in stitched)
    query = f"player={player}&base=/seams&seek={seeks}&through=2.5"
    result = _page_result(browser, f"{site[0]}/index.html?{query}")
    assert result.get("ok"), (player, result)
    crossed = result["crossed"]
    assert len(crossed) == len(stitched), result
    for join, time in zip(stitched, crossed, strict=True):
        assert time >= join + 0.5, (player, join, result)  # currentTime went on past it
    assert result["stalls"] == [], (player, result)  # no waiting once it played on
    assert result["warnings"] == [], (player, result)  # nor an error hls.js got over
