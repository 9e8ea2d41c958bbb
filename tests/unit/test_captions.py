"""Caption files told by their content, sanitised, capped, and refused with the bad line."""

from __future__ import annotations

import pytest

from vodkit.domain.captions import Cue, InvalidCaptions, parse_captions, sanitise, to_webvtt
from vodkit.domain.errors import LimitExceeded
from vodkit.domain.tracks import TrackLimits

SRT = b"""1
00:00:01,000 --> 00:00:02,500
Hello <I>world</I>
{\\an8}<font color="#ff0000">second</font> line

2
00:00:03,000 --> 00:00:04,000
Fish & chips
"""
VTT = b"""\xef\xbb\xbfWEBVTT - a title
X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000

NOTE a comment --> with an arrow

STYLE
::cue { color: red }

intro
00:01.000 --> 00:02.000 align:start position:10% evil:<x>
<v Roger Bingham>We are in <b>New York</b> &amp; more</v>

00:00:03.000 --> 00:00:04.000
<c.yellow>coloured</c> <00:00:03.500>karaoke
"""
ASS = b"""[Script Info]
ScriptType: v4.00+

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Comment: 0,0:00:00.00,0:00:09.00,Default,,0,0,0,,not shown
Dialogue: 0,0:00:02.50,0:00:03.00,Default,,0,0,0,,second, with a comma
Dialogue: 0,0:00:01.50,0:00:03.00,Default,,0,0,0,,{\\an8\\fs20}Bonjour\\Nle {\\i1}monde{\\i0}{\\p1}m 0 0 l 10 10{\\p0}
"""


def test_subrip_is_read_with_its_markup_kept_and_escaped() -> None:
    assert parse_captions(SRT) == [
        Cue(1.0, 2.5, "Hello <i>world</i>\nsecond line"),
        Cue(3.0, 4.0, "Fish &amp; chips"),
    ]


def test_webvtt_is_read_its_entities_once_its_unknown_settings_and_tags_dropped() -> None:
    assert parse_captions(VTT) == [
        Cue(1.0, 2.0, "<v Roger Bingham>We are in <b>New York</b> &amp; more</v>",
            "align:start position:10%"),
        Cue(3.0, 4.0, "&lt;c.yellow&gt;coloured&lt;/c&gt; &lt;00:00:03.500&gt;karaoke"),
    ]  # fmt: skip


def test_ass_keeps_the_text_of_dialogue_only_overrides_and_drawings_stripped() -> None:
    assert parse_captions(ASS) == [
        Cue(1.5, 3.0, "Bonjour\nle monde"),
        Cue(2.5, 3.0, "second, with a comma"),
    ]


def test_the_format_is_told_by_content_not_name_and_old_encodings_are_read() -> None:
    assert parse_captions("1\n00:00:01,000 --> 00:00:02,000\nCafé\n".encode("cp1252")) == [
        Cue(1.0, 2.0, "Café")
    ]
    assert parse_captions("WEBVTT\n\n00:01.000 --> 00:02.000\nü\n".encode("utf-16")) == [
        Cue(1.0, 2.0, "ü")
    ]


@pytest.mark.parametrize(
    "hostile",
    ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<v a<b>x", "</ i>--> <iframe>"],
)
def test_no_markup_but_b_i_u_and_v_survives(hostile: str) -> None:
    text = sanitise(hostile)
    stripped = text
    for kept in ("<b>", "</b>", "<i>", "</i>", "<u>", "</u>", "</v>"):
        stripped = stripped.replace(kept, "")
    assert "<" not in stripped and ">" not in stripped and "-->" not in text
    assert "&lt;" in text


def test_a_cue_with_script_becomes_inert_webvtt() -> None:
    cues = parse_captions(
        b"1\n00:00:01,000 --> 00:00:02,000\n<script>x</script> <i>kept</i> <img src=x onerror=alert(1)>\n"
    )
    assert cues[0].text == (
        "&lt;script&gt;x&lt;/script&gt; <i>kept</i> &lt;img src=x onerror=alert(1)&gt;"
    )


@pytest.mark.parametrize(
    ("body", "line", "excerpt"),
    [
        (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:6,\nseg.ts\n", 1, "'#EXTM3U'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 2, "'\\x1a'"),
        (b"1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n<b>not a timing</b>\n", 6, "'<b>not a timing</b>'"),
        (b"1\n00:00:05,000 --> 00:00:02,000\nbackwards\n", 2, "'00:00:05,000 --> 00:00:02,000'"),
        (b"WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", 3, "'00:01.000 -> 00:02.000'"),
        (b"[Events]\nFormat: Start, End, Text\nDialogue: soon, later, x\n", 3, "'Dialogue: soon, later, x'"),
        (b"\n\n  \n", 1, ""),
    ],
)  # fmt: skip
def test_what_cannot_be_read_is_refused_naming_the_first_bad_line(
    body: bytes, line: int, excerpt: str
) -> None:
    with pytest.raises(InvalidCaptions) as caught:
        parse_captions(body)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line} ")
    assert str(caught.value).endswith(excerpt)


def test_a_long_bad_line_is_quoted_short_and_escaped() -> None:
    with pytest.raises(InvalidCaptions) as caught:
        parse_captions(b"<script>" + b"a" * 500 + b"\n")
    assert len(str(caught.value)) < 120 and "\n" not in str(caught.value)


def test_sizes_and_cue_counts_are_capped() -> None:
    limits = TrackLimits(max_caption_bytes=len(SRT), max_cues=1)
    with pytest.raises(LimitExceeded, match="cues"):
        parse_captions(SRT, limits)
    with pytest.raises(LimitExceeded, match="bytes"):
        parse_captions(SRT + b"\n", TrackLimits(max_caption_bytes=len(SRT)))


def test_webvtt_out_reads_back_the_same_with_its_timestamp_map() -> None:
    cues = [*parse_captions(SRT), Cue(3725.5, 3726.0, "<v A&amp;B>late</v>", "align:end")]
    text = to_webvtt(cues, mpegts=0)
    assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n")
    assert "01:02:05.500 --> 01:02:06.000 align:end\n" in text
    assert parse_captions(text.encode()) == sorted(cues, key=lambda c: c.start)
