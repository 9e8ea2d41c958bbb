"""H.264 with CEA-608 captions at known times, for tests: no tool here writes them, so the
captions go in as A/53 SEI messages (GA94 cc_data) before each frame's slice, as a
broadcast encoder puts them (field 1, channel 1, pop-on: shown at the end-of-caption code)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import FFMPEG, real_clip

RATE = 25
SHOWN = (1.0, 3.0)  # "HELLO" appears at 1.0 s (its EOC) and is erased at 3.0 s (EDM)
TEXT = "HELLO"


def _odd(byte: int) -> int:
    return byte | 0x80 if bin(byte).count("1") % 2 == 0 else byte


def _pairs() -> dict[int, tuple[int, int]]:
    """Frame number -> the 608 byte pair it carries (control codes sent twice, as usual)."""
    show, erase = round(SHOWN[0] * RATE), round(SHOWN[1] * RATE)
    chars = TEXT + "\0" * (len(TEXT) % 2)
    codes = [(0x14, 0x20), (0x14, 0x20), (0x14, 0x70), (0x14, 0x70)]  # RCL, PAC row 15
    codes += [(ord(chars[i]), ord(chars[i + 1])) for i in range(0, len(chars), 2)]
    first = show - len(codes)
    pairs = {first + i: pair for i, pair in enumerate(codes)}
    pairs |= {show: (0x14, 0x2F), show + 1: (0x14, 0x2F)}  # EOC: the caption shows
    pairs |= {erase: (0x14, 0x2C), erase + 1: (0x14, 0x2C)}  # EDM: it goes
    return pairs


def _escaped(payload: bytes) -> bytes:
    """Emulation prevention: no 00 00 0x (x <= 3) inside a NAL unit."""
    out, zeros = bytearray(), 0
    for byte in payload:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _sei(pair: tuple[int, int]) -> bytes:
    cc = bytes([0xFC, _odd(pair[0]), _odd(pair[1])])
    payload = b"\xb5\x00\x31GA94\x03" + bytes([0x40 | 1, 0xFF]) + cc + b"\xff"
    body = bytes([4, len(payload)]) + payload + b"\x80"  # user_data_registered_itu_t_t35
    return b"\x00\x00\x00\x01\x06" + _escaped(body)


def cea608_clip(path: Path, seconds: int = 4) -> Path:
    """An MP4 (H.264, no B-frames so decode order is display order) with 608 captions."""
    raw = path.with_suffix(".h264")
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-t", str(seconds),
         "-i", str(real_clip("bigbuckbunny.mp4")), "-an", "-vf", f"scale=640:360,fps={RATE}",
         "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-f", "h264", str(raw)],
        check=True,
    )  # fmt: skip
    stream = raw.read_bytes()
    units = stream.split(b"\x00\x00\x01")
    out, frame, pairs = bytearray(), 0, _pairs()
    for unit in units[1:]:
        unit = unit.removesuffix(b"\x00")  # a four-byte start code's leading zero
        if unit and unit[0] & 0x1F in (1, 5):  # a slice: one per frame with x264's defaults
            out += _sei(pairs.get(frame, (0x80, 0x80)))
            frame += 1
        out += b"\x00\x00\x00\x01" + unit
    raw.write_bytes(bytes(out))
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-r", str(RATE),
         "-f", "h264", "-i", str(raw), "-c", "copy", str(path)],
        check=True,
    )  # fmt: skip
    return path
