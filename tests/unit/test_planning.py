import math
from dataclasses import replace
from fractions import Fraction

import pytest

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.domain.errors import UnsupportedMedia
from vodkit.domain.ladder import PlanningRules, codec_weight, fit, plan_sprite, plan_transcode
from vodkit.domain.media import AudioInfo, MediaInfo, VideoInfo
from vodkit.domain.plan import TranscodePlan
from vodkit.domain.presets import PresetOutput, VideoSettings

PRESETS = load_presets(default_presets_path())
STEREO = AudioInfo(codec="aac", channels=2, sample_rate=48000)


def media(
    width: int,
    height: int,
    *,
    audio: AudioInfo | None = STEREO,
    sar: str = "1/1",
    rotation: int = 0,
) -> MediaInfo:
    return MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration=10.0,
        size=1000,
        bitrate=None,
        video=VideoInfo(
            codec="h264", width=width, height=height, fps=30.0, sar=sar, rotation=rotation
        ),
        audio=audio,
    )


def sizes(plan: TranscodePlan) -> list[tuple[int, int]]:
    return [(v.width, v.height) for v in plan.video]


def test_a_1080p_source_gets_the_original_ladder() -> None:
    plan = plan_transcode(media(1920, 1080), PRESETS)
    assert sizes(plan) == [(1280, 720), (854, 480)]
    assert [v.bitrate for v in plan.video] == [2_000_000, 1_000_000]
    assert [(a.name, a.bitrate) for a in plan.audio] == [
        ("audio_128k", 128_000),
        ("audio_96k", 96_000),
    ]
    assert [v.audio for v in plan.video] == ["audio_128k", "audio_96k"]
    (preview,) = plan.files
    assert (preview.name, preview.video.width, preview.video.height) == ("preview", 1280, 720)
    assert plan.dar == "16/9"
    assert plan.demuxer == "mov"
    assert plan.segment_seconds == 6 and plan.gop_seconds == 2


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((1920, 816), [(1280, 544), (854, 362)]),  # 2.35:1 cinema
        ((1080, 1920), [(720, 1280), (480, 854)]),  # portrait phone
        ((1080, 1080), [(720, 720), (480, 480)]),  # square
        ((1280, 720), [(1280, 720), (854, 480)]),  # exactly the top rung: no upscaling
        ((1000, 562), [(1000, 562), (854, 480)]),  # between rungs: its own size on top
        ((320, 240), [(320, 240)]),  # smaller than every rung: one rung at its own size
        ((321, 241), [(320, 240)]),  # odd sizes become even, never larger
    ],
)
def test_the_ladder_never_upscales_and_keeps_the_aspect(
    source: tuple[int, int], expected: list[tuple[int, int]]
) -> None:
    plan = plan_transcode(media(*source), PRESETS)
    assert sizes(plan) == expected
    for width, height in sizes(plan):
        assert width % 2 == 0 and height % 2 == 0
        assert abs(width / height - source[0] / source[1]) < 0.02
    assert plan.files[0].video.width <= source[0]
    assert plan.files[0].video.height <= source[1]


def test_a_small_rung_gets_a_proportional_bitrate() -> None:
    plan = plan_transcode(media(320, 240), PRESETS)
    assert plan.video[0].bitrate < 1_000_000
    assert plan.files[0].video.bitrate < 1_500_000


def test_sample_aspect_and_rotation_define_the_display_size() -> None:
    anamorphic = plan_transcode(media(720, 576, sar="16/15"), PRESETS)  # 768x576 displayed, 4:3
    assert Fraction(anamorphic.dar) == Fraction(4, 3)
    assert sizes(anamorphic) == [(768, 576), (640, 480)]  # between rungs: its own on top
    rotated = plan_transcode(media(1920, 1080, rotation=90), PRESETS)
    assert sizes(rotated) == [(720, 1280), (480, 854)]


def test_no_audio_gives_no_audio_renditions() -> None:
    plan = plan_transcode(media(1920, 1080, audio=None), PRESETS)
    assert plan.audio == ()
    assert all(v.audio is None for v in plan.video)
    assert plan.files[0].audio is None
    assert all(r["audioBitrate"] is None for r in plan.summary())


def test_sources_without_picture_or_sound_or_duration_are_refused() -> None:
    silent = MediaInfo("mov,mp4,m4a,3gp,3g2,mj2", 10.0, 10, None, None, None)
    with pytest.raises(UnsupportedMedia, match="no video or audio stream"):
        plan_transcode(silent, PRESETS)
    no_duration = MediaInfo("mov,mp4,m4a,3gp,3g2,mj2", 0.0, 10, None, media(640, 360).video, None)
    with pytest.raises(UnsupportedMedia, match="no duration"):
        plan_transcode(no_duration, PRESETS)


def test_the_plan_round_trips_through_json_shapes() -> None:
    plan = plan_transcode(media(1920, 1080), PRESETS)
    assert TranscodePlan.from_dict(plan.to_dict()) == plan


def test_fit() -> None:
    assert fit((1920, 1080), (1280, 720)) == (1280, 720)
    assert fit((640, 360), (1280, 720)) is None
    assert fit((640, 360), (1280, 720), allow_upscale=True) == (1280, 720)


@pytest.mark.parametrize(
    ("source", "duration", "tile", "grid", "count"),
    [
        ((1920, 1080), 12.0, (160, 90), (3, 1), 3),
        ((1920, 1080), 2.0, (160, 90), (1, 1), 1),  # shorter than the interval: still one tile
        ((1920, 1080), 10.0, (160, 90), (2, 1), 2),
        ((1920, 1080), 500.0, (160, 90), (10, 10), 100),  # one full sheet
        ((1920, 1080), 3600.0, (160, 90), (10, 10), 720),  # 8 sheets, the last 20 tiles
        ((1080, 1920), 60.0, (90, 160), (10, 2), 12),  # portrait tiles
        ((64, 48), 6.0, (64, 48), (2, 1), 2),  # tiny sources are not upscaled
    ],
)
def test_the_sprite_grid(
    source: tuple[int, int],
    duration: float,
    tile: tuple[int, int],
    grid: tuple[int, int],
    count: int,
) -> None:
    sprite = plan_sprite(source, duration, 5)
    assert (sprite.tile_width, sprite.tile_height) == tile
    assert (sprite.columns, sprite.rows) == grid
    assert sprite.count == count
    assert sprite.sheets() == math.ceil(count / 100)
    assert sprite.columns * sprite.rows * sprite.sheets() >= sprite.count
    last_sheet, x, y = sprite.place(count - 1)
    assert last_sheet == sprite.sheet_name(sprite.sheets() - 1)
    assert x < sprite.columns * tile[0] and y < sprite.rows * tile[1]


def test_sheets_are_named_and_filled_in_order() -> None:
    sprite = plan_sprite((1920, 1080), 6 * 3600.0, 5)  # the longest upload the limits allow
    assert (sprite.count, sprite.sheets()) == (4320, 44)
    assert sprite.rows * sprite.tile_height == 900  # every sheet is 1600x900, not 38,880 tall
    assert sprite.place(0) == ("sprite.jpg", 0, 0)
    assert sprite.place(99) == ("sprite.jpg", 1440, 810)
    assert sprite.place(100) == ("sprite-2.jpg", 0, 0)
    assert sprite.place(4319) == ("sprite-44.jpg", 1440, 90)  # cell 19 of the last
    assert sprite.sheets(150) == 2 and sprite.sheets(0) == 1


def test_the_sprite_interval_and_gop_are_parameters() -> None:
    plan = plan_transcode(
        media(1920, 1080), PRESETS, PlanningRules(sprite_interval=2, gop_seconds=3, max_fps=24)
    )
    assert plan.sprite.interval == 2 and plan.sprite.count == 5
    assert plan.gop_seconds == 3
    assert plan.fps == 15.0  # the 30 fps source is over the cap: halved, every other frame


def test_no_rung_carries_more_than_the_source() -> None:
    lean = MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration=10.0,
        size=1000,
        bitrate=None,
        video=VideoInfo(codec="h264", width=1920, height=1080, fps=30.0, bitrate=700_000),
        audio=STEREO,
    )
    plan = plan_transcode(lean, PRESETS)
    assert [v.bitrate for v in plan.video] == [700_000, 700_000]
    assert plan.files[0].video.bitrate == 700_000
    # from the container's figure when the stream has none, minus the audio
    muxed = MediaInfo(
        container="matroska,webm",
        duration=10.0,
        size=1000,
        bitrate=900_000,
        video=VideoInfo(codec="h264", width=1920, height=1080, fps=30.0),
        audio=AudioInfo(codec="aac", channels=2, sample_rate=48000, bitrate=128_000),
    )
    assert max(v.bitrate for v in plan_transcode(muxed, PRESETS).video) == 772_000
    rich = plan_transcode(media(1920, 1080), PRESETS)  # unknown bitrate: the presets' figures
    assert [v.bitrate for v in rich.video] == [2_000_000, 1_000_000]


def _between(low: float, high: float, value: float, a: float, b: float) -> float:
    """``value``'s cap on the line from (``low``, ``a``) to (``high``, ``b``)."""
    return a + (value - low) / (high - low) * (b - a)


@pytest.mark.parametrize(
    ("source", "top", "neighbours"),
    [
        # 16:9 between 480p and 720p: the neighbours are the boxes themselves
        ((960, 540), (960, 540), ((854, 480, 1_000_000), (1280, 720, 2_000_000))),
        ((540, 960), (540, 960), ((480, 854, 1_000_000), (720, 1280, 2_000_000))),
        # 4:3: the neighbours are the boxes fitted to its aspect, their caps scaled alike
        ((800, 600), (800, 600), ((640, 480, 749_414), (960, 720, 1_500_000))),
    ],
)
def test_a_source_between_rungs_keeps_its_own_size_on_top(
    source: tuple[int, int],
    top: tuple[int, int],
    neighbours: tuple[tuple[int, int, int], tuple[int, int, int]],
) -> None:
    plan = plan_transcode(media(*source), PRESETS)
    (lw, lh, low_cap), (uw, uh, up_cap) = neighbours
    assert sizes(plan) == [top, (lw, lh)]
    expected = _between(lw * lh, uw * uh, top[0] * top[1], low_cap, up_cap)
    assert abs(plan.video[0].bitrate - expected) <= 1
    assert low_cap < plan.video[0].bitrate < up_cap
    assert plan.video[0].name == f"{min(top)}p"
    assert plan.video[0].audio == "audio_128k"  # the larger neighbour's audio
    # the preview, the poster and the embed snippet (the top rung's size) all agree
    preview = plan.files[0].video
    assert (preview.width, preview.height) == top == (plan.poster.width, plan.poster.height)
    assert plan.per_title is not None and plan.per_title.targets[:2] == (95, 89)


def test_above_the_largest_rung_and_below_the_smallest_nothing_changes() -> None:
    above = plan_transcode(media(1600, 900), PRESETS)  # above 720p, the largest default rung
    assert sizes(above) == [(1280, 720), (854, 480)]
    assert [v.bitrate for v in above.video] == [2_000_000, 1_000_000]
    below = plan_transcode(media(640, 360), PRESETS)  # below 480p: one rung, its own size
    assert sizes(below) == [(640, 360)]
    assert below.video[0].bitrate == int(1_000_000 * 640 * 360 / (854 * 480))


def test_an_in_between_source_with_a_1080p_rung_gets_its_own_size_and_cap() -> None:
    """With a 1080p rung in the presets, 1600x900 falls between 720p and 1080p."""
    full_hd = PresetOutput(
        name_modifier="_1080p",
        video=VideoSettings(width=1920, height=1080, bitrate=4_000_000),
        audio=PRESETS.hls.outputs[0].audio,
    )
    presets = replace(PRESETS, hls=replace(PRESETS.hls, outputs=(full_hd, *PRESETS.hls.outputs)))
    plan = plan_transcode(media(1600, 900), presets)
    assert sizes(plan) == [(1600, 900), (1280, 720), (854, 480)]
    expected = _between(1280 * 720, 1920 * 1080, 1600 * 900, 2_000_000, 4_000_000)
    assert abs(plan.video[0].bitrate - expected) <= 1
    assert sizes(plan_transcode(media(1920, 1080), presets))[0] == (1920, 1080)


def coded(bitrate: int, codec: str) -> MediaInfo:
    return MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration=10.0,
        size=1000,
        bitrate=None,
        video=VideoInfo(codec=codec, width=640, height=360, fps=30.0, bitrate=bitrate),
        audio=STEREO,
    )


@pytest.mark.parametrize(
    ("codec", "weight"),
    [
        ("hevc", 1.4),
        ("vp9", 1.5),
        ("av1", 1.6),
        ("libdav1d", 1.6),
        ("h264", 1.0),
        ("mpeg2video", 1.0),
    ],
)
def test_the_source_bits_are_counted_in_h264_bits(codec: str, weight: float) -> None:
    plan = plan_transcode(coded(160_000, codec), PRESETS)
    (top,) = plan.video
    assert top.bitrate == round(160_000 * weight)
    assert plan.files[0].video.bitrate == round(160_000 * weight)
    assert codec_weight(codec) == weight
