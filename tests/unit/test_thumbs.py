from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import FFMPEG
from vodkit.adapters.transcoder.thumbs import choose_poster, frame_score, sheet_tiles, sprite_vtt
from vodkit.domain.errors import TranscodeFailed
from vodkit.domain.plan import SpritePlan


def picture(path: Path, source: str) -> Path:
    subprocess.run(
        [
            FFMPEG,
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            source,
            "-frames:v",
            "1",
            str(path),
        ],
        check=True,
    )
    return path


def test_a_picture_beats_black_white_and_flat_frames(tmp_path: Path) -> None:
    candidates = tmp_path / "c"
    candidates.mkdir()
    picture(candidates / "001.jpg", "color=black:size=320x180")
    picture(candidates / "002.jpg", "color=white:size=320x180")
    picture(candidates / "003.jpg", "color=gray:size=320x180")
    picture(candidates / "004.jpg", "testsrc2=size=320x180")
    picture(candidates / "005.jpg", "color=0x101010:size=320x180")
    scores = {p.name: frame_score(p) for p in sorted(candidates.iterdir())}
    assert max(scores, key=scores.__getitem__) == "004.jpg"
    choose_poster(candidates, tmp_path / "poster.jpg")
    assert (tmp_path / "poster.jpg").read_bytes() == (candidates / "004.jpg").read_bytes()


def test_no_candidate_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TranscodeFailed):
        choose_poster(tmp_path, tmp_path / "poster.jpg")


def test_sprite_cues_cover_the_video_with_their_tiles() -> None:
    sprite = SpritePlan(interval=5, tile_width=160, tile_height=90, columns=2, rows=2, count=3)
    assert sprite_vtt(sprite, 12.5) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:05.000\nsprite.jpg#xywh=0,0,160,90\n\n"
        "00:00:05.000 --> 00:00:10.000\nsprite.jpg#xywh=160,0,160,90\n\n"
        "00:00:10.000 --> 00:00:12.500\nsprite.jpg#xywh=0,90,160,90\n"
    )
    long = SpritePlan(interval=5, tile_width=160, tile_height=90, columns=10, rows=10, count=800)
    cues = sprite_vtt(long, 4000)
    assert "00:08:15.000 --> 00:08:20.000\nsprite.jpg#xywh=1440,810,160,90" in cues
    assert "00:08:20.000 --> 00:08:25.000\nsprite-2.jpg#xywh=0,0,160,90" in cues
    assert "01:06:35.000 --> 01:06:40.000\nsprite-8.jpg#xywh=1440,810,160,90" in cues


def region_luma(path: Path, x: int, y: int, width: int, height: int) -> float:
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    grey = frame.to_ndarray(format="gray")
    return float(grey[y : y + height, x : x + width].mean())


def test_tiles_fill_sheet_after_sheet(tmp_path: Path) -> None:
    """Seven tiles on 2x2 sheets: two sheets, each the full grid, tiles in time order."""
    sprite = SpritePlan(interval=5, tile_width=32, tile_height=18, columns=2, rows=2, count=7)
    levels = [30 + 30 * i for i in range(7)]
    tiles = [
        picture(tmp_path / f"{i:05d}.jpg", f"color=0x{v:02x}{v:02x}{v:02x}:size=32x18")
        for i, v in enumerate(levels)
    ]
    assert sheet_tiles(tiles, sprite, tmp_path / "sheets") == 7
    assert sorted(p.name for p in (tmp_path / "sheets").iterdir()) == [
        "sprite-2.jpg",
        "sprite.jpg",
    ]
    for index, level in enumerate(levels):
        sheet, x, y = sprite.place(index)
        assert abs(region_luma(tmp_path / "sheets" / sheet, x + 4, y + 4, 24, 10) - level) < 12
    empty_cell = sprite.place(7)  # the last sheet's unused cell stays black
    assert (
        region_luma(
            tmp_path / "sheets" / empty_cell[0], empty_cell[1] + 4, empty_cell[2] + 4, 24, 10
        )
        < 20
    )
    assert "sprite-2.jpg#xywh=0,18,32,18" in sprite_vtt(sprite, 35)
