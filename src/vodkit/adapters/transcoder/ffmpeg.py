"""The FFmpeg transcoder: one process per asset, decode once.

The decoded video is split inside one filter graph into every rung, the MP4
preview and the poster search (an audio-only source: its sound into every audio
rendition and the M4A download; the waveform is drawn from that M4A afterwards),
so the source is read and decoded exactly once and each distinct encoding is
made once: FFmpeg's tee muxer gives an encode to every muxer that needs it (the
preview's audio is the 720p rung's). The stream rungs go to FFmpeg's DASH muxer,
which writes one set of CMAF segments for both the MPD and the HLS playlists;
keyframes are forced every ``gop_seconds`` with scene-cut keyframes off, so every
rung switches at the same instants.

Every argument comes from the plan (numbers and names vodkit made) or from
constants here; the input is forced to its probed demuxer, read through a
neutral link, with only the ``file`` protocol allowed.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from ...domain import layout
from ...domain.errors import ConfigError, ErrorCode, TranscodeFailed, TransientError
from ...domain.plan import QVBR, Measured, SpritePlan, TranscodePlan, VideoRendition
from ...domain.tracks import TrackType, language_alpha3
from .. import sandbox
from .base import Progress, ProgressCallback, TranscodeOutput
from .cmaf import (
    INIT_NAME,
    SEGMENT_NAME,
    audio_set_key,
    finalize_stream,
    measured_rungs,
    representation_names,
)
from .text import write_text_tracks
from .thumbs import choose_poster, sprite_vtt
from .tonemap import pq_to_sdr
from .verify import verify_outputs

log = logging.getLogger(__name__)

REQUIRED_ENCODERS = ("libx264", "aac", "mjpeg")
CANDIDATES = "candidates"  # poster candidates: in the work directory, never published
TILES = "tiles"  # scrub tiles, before they are sheeted
SHEETS = "sheets"  # the sheets as FFmpeg numbers them, before they are named
SHEET_LIMITS = sandbox.Limits(timeout=120, memory_bytes=2 * 1024**3)
WAVEFORM_COLOUR = "0x3b82f6"
TEE_LIST_SPECIAL = "\\'|"
TEE_OPTION_SPECIAL = "\\':]"
TRANSIENT_MARKERS = ("No space left on device", "Resource temporarily unavailable")
ANALYSIS_TIMEOUT = 300.0  # wall clock for the whole per-title analysis (its cost is fixed)


def ffmpeg_executable(setting: str) -> str:
    """``bundled`` (imageio-ffmpeg's static build), ``system`` (PATH) or a path."""
    if setting == "bundled":
        try:
            import imageio_ffmpeg
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ConfigError("the bundled FFmpeg needs the imageio-ffmpeg package") from exc
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    return sandbox.executable("ffmpeg" if setting == "system" else setting)


def make_sample(ffmpeg: str, target: Path, seconds: int = 10) -> Path:
    """A 720p test pattern with a tone: real H.264 + AAC made by FFmpeg (``vodkit demo``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


def _every(seconds: float) -> str:
    """A select expression keeping the first frame of every ``seconds``-long window."""
    return f"select='eq(n\\,0)+gt(floor(t/{seconds:g})\\,floor(prev_t/{seconds:g}))'"


# HDR to SDR. PQ (HDR10): BT.2390's EETF from the source's peak to SDR white (``tonemap``):
# near identity for content graded within SDR brightness, highlights rolled off above.
# HLG: linear light (``npl=100``: SDR's reference white is 100 nits) and BT.709 primaries,
# then the Möbius curve: linear (exact) up to 30 % of the range and a smooth roll-off above
# it, so skin, diffuse whites and everything graded at SDR levels keep their brightness and
# colour while highlights are compressed instead of clipped. Hable's filmic curve, the other
# usual choice, darkens the midtones (on BT.2408-graded test footage: -37 % luma, 65 % of
# the colour, SSIM 0.88 against the SDR original, where Möbius keeps 93 %, 96 % and 0.95).
# ``desat=0``: no desaturation of bright colours towards grey (the washed-out look).
TONEMAP_TRANSFER = {"pq": "smpte2084", "hlg": "arib-std-b67"}
BT709 = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


def conditioning(plan: TranscodePlan) -> str:
    """What every picture goes through before scaling: deinterlacing (``bwdif``, one frame
    per frame, so the rate stays the source's), tone-mapping of HDR sources, the rate: the
    plan's constant one (exact: 30000/1001, not 29.97), each frame to its nearest slot, so a
    variable-rate source's frames are all kept, repeated where the source is slower."""
    steps = []
    if plan.interlaced:
        steps.append("bwdif=mode=send_frame:parity=auto:deint=all")
    if plan.tonemap == "pq":
        steps.append(pq_to_sdr(plan.tonemap_peak))
    elif plan.tonemap in TONEMAP_TRANSFER:
        steps.append(
            f"zscale=tin={TONEMAP_TRANSFER[plan.tonemap]}:pin=bt2020:min=bt2020nc:rin=tv:"
            "t=linear:p=bt2020:npl=100,format=gbrpf32le,zscale=p=bt709,"
            "tonemap=tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
        )
    if plan.fps:
        rate = plan.frame_rate
        steps.append(f"fps={rate.numerator}/{rate.denominator}")
    return "".join(f"{step}," for step in steps)


def colour_tags(plan: TranscodePlan) -> list[str]:
    """Tone-mapped pictures are BT.709: every output says so."""
    return BT709 if plan.tonemap in TONEMAP_TRANSFER else []


def video_cut(plan: TranscodePlan) -> str:
    """The video set's ``seg_duration``: the DASH muxer cuts at the first keyframe this long
    after its previous cut. Where a segment is not whole frames (30000/1001), the keyframe
    of each boundary falls up to a frame after it, so the cuts would drift off the grid (an
    8 s segment); one frame less finds each boundary's keyframe, as the chunks do. "": the
    segment length, as every set has it."""
    segment = plan.segment_seconds
    if (segment * plan.frame_rate).denominator == 1:
        return ""
    return f"{math.floor((segment - 1 / plan.frame_rate) * 1_000_000) / 1_000_000:.6f}"


def with_video_cut(plan: TranscodePlan, sets: str) -> str:
    """``adaptation_sets`` with the video set's own ``seg_duration`` where it needs one."""
    cut = video_cut(plan)
    return sets.replace("id=0,streams=v", f"id=0,seg_duration={cut},streams=v", 1) if cut else sets


def filter_graph(plan: TranscodePlan) -> str:
    """Decode once, scale once to the largest output, derive every smaller one from it.

    Every output shares the source's display aspect, so scaling the largest output's
    frames down loses nothing visible and saves a full-resolution scaler pass per output.
    """
    chains = [] if plan.audio_only else _video_chains(plan)
    audio_encodes = plan.audio_encodes  # a file's audio may reuse a stream rendition's encode
    inputs: dict[str, list[int]] = {}  # each source track, decoded once, split to its encodes
    for j, audio in enumerate(audio_encodes):
        inputs.setdefault(audio.input, []).append(j)
    for source, encodes in inputs.items():
        chains.append(f"[{source}]asplit={len(encodes)}" + "".join(f"[as{j}]" for j in encodes))
    for j, audio in enumerate(audio_encodes):
        chains.append(
            f"[as{j}]aresample={audio.sample_rate},"
            f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{j}]"
        )
    return ";".join(chains)


def _video_chains(plan: TranscodePlan) -> list[str]:
    """The pictures: every rung, every MP4, the poster candidates and the sprite tiles."""
    sprite = plan.sprite
    assert sprite is not None  # a plan with pictures has a sprite
    scaled = [(v.width, v.height) for v in plan.video] + [
        (f.video.width, f.video.height) for f in plan.files
    ]
    poster = plan.poster
    base_w, base_h = max([*scaled, (poster.width, poster.height)], key=lambda s: s[0] * s[1])
    branches = len(scaled) + 2  # + the poster candidates and the sprite tiles
    chains = [
        f"[0:v:0]{conditioning(plan)}scale={base_w}:{base_h}:flags=bicubic,format=yuv420p,setdar={plan.dar},"
        f"split={branches}" + "".join(f"[s{i}]" for i in range(branches))
    ]
    for i, (width, height) in enumerate(scaled):
        resize = "" if (width, height) == (base_w, base_h) else f"scale={width}:{height},"
        chains.append(f"[s{i}]{resize}setdar={plan.dar}[v{i}]")
    window = max(plan.duration / poster.candidates, 0.1)
    chains.append(
        f"[s{branches - 2}]{_every(window)},scale={poster.width}:{poster.height},setsar=1[poster]"
    )
    chains.append(
        f"[s{branches - 1}]{_every(sprite.interval)},"
        f"scale={sprite.tile_width}:{sprite.tile_height},setsar=1[sprite]"
    )
    return chains


def rate_control(video: VideoRendition, index: int | None = None, *, mode: str = QVBR) -> list[str]:
    """The cap is ``-maxrate`` with a two-second buffer on every rung; under it, capped CRF
    (QVBR) where the rung has a CRF, else the cap as a constant bitrate (CBR)."""
    spec = "" if index is None else f":{index}"
    cap = video.bitrate
    target = (
        [f"-crf:v{spec}", str(video.crf)]
        if mode == QVBR and video.crf is not None
        else [f"-b:v{spec}", str(cap)]
    )
    return [*target, f"-maxrate:v{spec}", str(cap), f"-bufsize:v{spec}", str(cap * 2)]


def h264_arguments(plan: TranscodePlan, x264_preset: str) -> list[str]:
    """The encoder settings every rung shares (and the per-title samples too)."""
    gop_frames = max(1, round(plan.frame_rate * plan.gop_seconds))
    return [
        "-c:v", "libx264", "-preset", x264_preset, "-profile:v", "high",
        "-force_key_frames", f"expr:gte(t,n_forced*{plan.gop_seconds})",
        "-g", str(gop_frames), "-keyint_min", str(gop_frames), "-sc_threshold", "0",
        *colour_tags(plan),
    ]  # fmt: skip


def _escaped(text: str, special: str) -> str:
    return "".join("\\" + c if c in special else c for c in text)


def _tee_slave(path: str, **options: str) -> str:
    """``[key=value:...]path`` for the tee muxer, escaped for both of its parsing passes:
    the list of slaves (split at ``|``), then each slave's options (split at ``:``)."""
    spec = ":".join(
        f"{key}={_escaped(value, TEE_OPTION_SPECIAL)}" for key, value in options.items()
    )
    return _escaped(f"[{spec}]{path}", TEE_LIST_SPECIAL)


def adaptation_sets(plan: TranscodePlan) -> str:
    """The DASH muxer's adaptation sets: the video (if any), then one per audio track (its
    bitrates); cmaf.py labels them (``lang``, ``Label``, ``Role``)."""
    sets: dict[int | None, list[int]] = {}
    for j, audio in enumerate(plan.audio):
        sets.setdefault(audio_set_key(plan, audio), []).append(len(plan.video) + j)
    video = [] if plan.audio_only else ["id=0,streams=v"]
    audio_sets = [
        f"id={k + len(video)},streams={','.join(map(str, streams))}"
        for k, streams in enumerate(sets.values())
    ]
    return " ".join([*video, *audio_sets])


def build_command(
    plan: TranscodePlan, source: Path, workdir: Path, *, ffmpeg: str, x264_preset: str
) -> list[str]:
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        "-progress", "pipe:1", "-y",
        "-protocol_whitelist", "file", "-f", plan.demuxer, "-i", f"file:{source}",
        "-filter_complex", filter_graph(plan),
    ]  # fmt: skip

    # One output holds every distinct encode; the tee muxer hands each muxer its streams:
    # the DASH muxer writes CMAF segments shared by the MPD and the HLS playlists, each MP4
    # takes its video and an audio encode, possibly one the stream also uses.
    videos = [*plan.video, *(f.video for f in plan.files)]
    audio_encodes = plan.audio_encodes
    args += [arg for i in range(len(videos)) for arg in ("-map", f"[v{i}]")]
    args += [arg for j in range(len(audio_encodes)) for arg in ("-map", f"[a{j}]")]
    if videos:
        args += h264_arguments(plan, x264_preset)
    for i, video in enumerate(videos):
        args += rate_control(video, i, mode=plan.rate_control)
    if audio_encodes:
        args += ["-c:a", "aac"]
    for j, audio in enumerate(audio_encodes):
        args += [f"-b:a:{j}", str(audio.bitrate)]
        track = plan.track(audio)
        if track is not None:  # tagged in the CMAF and MP4 headers (ISO 639-2 there)
            args += [f"-metadata:s:a:{j}", f"language={language_alpha3(track.language)}"]
    # Muxers behind a tee cannot ask the encoders for out-of-band headers themselves.
    args += ["-flags:v", "+global_header"] if videos else []
    args += ["-flags:a", "+global_header"]
    stream = [f"v:{i}" for i in range(len(plan.video))] + [f"a:{j}" for j in range(len(plan.audio))]
    slaves = [
        _tee_slave(
            str(workdir / layout.MPD),
            f="dash",
            select=",".join(stream),
            dash_segment_type="mp4",
            seg_duration=str(plan.segment_seconds),
            use_template="1",
            use_timeline="1",
            hls_playlist="1",
            adaptation_sets=with_video_cut(plan, adaptation_sets(plan)),
            init_seg_name=INIT_NAME,
            media_seg_name=SEGMENT_NAME,
        )
    ]
    for k, rendition in enumerate(plan.files):
        audio_index = plan.audio_source(rendition)
        picked = f"v:{len(plan.video) + k}" + ("" if audio_index is None else f",a:{audio_index}")
        mp4 = str(workdir / layout.mp4(rendition.name))
        slaves.append(_tee_slave(mp4, f="mp4", select=picked, movflags="+faststart"))
    for download in plan.downloads:  # an audio-only asset's M4A ("ipod": the M4A brand)
        m4a = str(workdir / layout.m4a(download.name))
        picked = f"a:{plan.audio_source(download)}"
        slaves.append(_tee_slave(m4a, f="ipod", select=picked, movflags="+faststart"))
    args += ["-f", "tee", "|".join(slaves)]
    if plan.audio_only:
        return args  # the waveform is drawn afterwards (``waveform_command``)

    # Poster candidates (one is chosen afterwards) and the scrub tiles (sheeted afterwards).
    # Both start at t=0: FFmpeg reports no progress until every output has begun.
    args += [
        "-map", "[poster]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "3",
        *colour_tags(plan), "-f", "image2", str(workdir / CANDIDATES / "%03d.jpg"),
        "-map", "[sprite]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", "5",
        *colour_tags(plan), "-f", "image2", str(workdir / TILES / "%05d.jpg"),
    ]  # fmt: skip
    return args


def waveform_filters(width: int, height: int) -> list[tuple[str, str]]:
    """The waveform's filter chain, as (filter, options): mixed to one channel, padded with
    silence to a sample a column (``showwavespic`` draws nothing from fewer), one PNG of
    the whole sound, square-root scaled so quiet speech still shows. FFmpeg runs it here
    (``waveform_command``); on AWS, PyAV's libavfilter does (``waveform``)."""
    return [
        ("aformat", "channel_layouts=mono"),
        ("apad", f"whole_len={width}"),
        (
            "showwavespic",
            f"s={width}x{height}:colors={WAVEFORM_COLOUR}:scale=sqrt:filter=peak",
        ),
    ]


def waveform_limits(duration: float) -> sandbox.Limits:
    """The waveform's run: it decodes the whole sound (AAC at >100x real time: a long one
    takes a while) and ``showwavespic`` holds it all (16-bit mono) until it draws."""
    return sandbox.Limits(timeout=max(120.0, duration / 20), memory_bytes=2 * 1024**3)


def waveform_command(plan: TranscodePlan, source: Path, workdir: Path, *, ffmpeg: str) -> list[str]:
    """An audio-only asset's poster: the waveform of its M4A (vodkit's own file), else of
    the source (forced to its demuxer, as the transcode read it), drawn by
    ``waveform_filters``."""
    if plan.downloads:
        demuxer, path = "mov", workdir / layout.m4a(plan.downloads[0].name)
    else:
        demuxer, path = plan.demuxer, source
    chain = ",".join(f"{name}={options}" for name, options in
                     waveform_filters(plan.poster.width, plan.poster.height))  # fmt: skip
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-f", demuxer, "-i", f"file:{path}",
        "-filter_complex", f"[0:a:0]{chain}[w]",
        "-map", "[w]", "-frames:v", "1", "-c:v", "png", "-f", "image2", "-update", "1",
        str(workdir / layout.WAVEFORM),
    ]  # fmt: skip


def sprite_command(plan: TranscodePlan, workdir: Path, tiles: int, *, ffmpeg: str) -> list[str]:
    """Sheet the tiles the transcode wrote (vodkit's own JPEGs, never an upload)."""
    sprite = plan.sprite
    assert sprite is not None
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-f", "image2", "-framerate", "1",
        "-i", str(workdir / TILES / "%05d.jpg"),
        "-vf", f"tile={sprite.columns}x{sprite.rows}", "-frames:v", str(sprite.sheets(tiles)),
        "-c:v", "mjpeg", "-q:v", "5", "-f", "image2", "-start_number", "0",
        str(workdir / SHEETS / "%03d.jpg"),
    ]  # fmt: skip


class _ProgressReader:
    """Turns FFmpeg's ``-progress`` key=value lines into Progress callbacks."""

    def __init__(self, duration: float, on_progress: ProgressCallback) -> None:
        self.duration = max(duration, 0.001)
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.done = 0.0

    def __call__(self, line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.strip().lstrip("-").isdigit():
            # FFmpeg's clock is that of several outputs: it may step back, and audio may run
            # a little past the video's duration. Progress only moves forward; ETA never < 0.
            self.done = min(max(self.done, int(value) / 1_000_000), self.duration)
            percent = min(99.9, 100.0 * self.done / self.duration)
            elapsed = time.monotonic() - self.started
            speed = self.done / elapsed if elapsed > 0 else None
            eta = (self.duration - self.done) / speed if speed else None
            self.on_progress(Progress(percent=percent, eta_seconds=eta))


class FfmpegTranscoder:
    def __init__(
        self,
        ffmpeg: str = "bundled",
        *,
        x264_preset: str = "veryfast",
        timeout: float = 6 * 3600.0,
        memory_bytes: int = 6 * 1024**3,
    ) -> None:
        self.ffmpeg_setting = ffmpeg
        self.x264_preset = x264_preset
        self.limits = sandbox.Limits(timeout=timeout, memory_bytes=memory_bytes)
        self._ffmpeg: str | None = None
        from .vmaf import FfmpegSampleEncoder  # it builds on this module's arguments

        self.samples = FfmpegSampleEncoder(
            lambda: self.ffmpeg,
            x264_preset=x264_preset,
            timeout=min(ANALYSIS_TIMEOUT, timeout),
            memory_bytes=memory_bytes,
        )

    @property
    def ffmpeg(self) -> str:
        if self._ffmpeg is None:  # resolved lazily: nothing happens at import or wiring time
            self._ffmpeg = ffmpeg_executable(self.ffmpeg_setting)
        return self._ffmpeg

    def check(self) -> None:
        """Fail fast, with a clear message, if the configured FFmpeg cannot do the job."""
        try:
            listing = subprocess.run(
                [self.ffmpeg, "-hide_banner", "-encoders"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            ).stdout
        except OSError as exc:
            raise ConfigError(f"cannot run FFmpeg at {self.ffmpeg}: {exc.strerror}") from exc
        missing = [name for name in REQUIRED_ENCODERS if f" {name} " not in listing]
        if missing:
            raise ConfigError(
                f"the FFmpeg at {self.ffmpeg} lacks the {', '.join(missing)} encoder(s); "
                "set VODKIT_FFMPEG=bundled or point it at a build that has them"
            )

    def transcode(
        self,
        plan: TranscodePlan,
        source: Path,
        workdir: Path,
        on_progress: ProgressCallback,
    ) -> TranscodeOutput:
        workdir = workdir.resolve()  # FFmpeg runs inside it: every path must be absolute
        for directory in (*layout.DIRECTORIES, CANDIDATES, TILES, SHEETS):
            shutil.rmtree(workdir / directory, ignore_errors=True)
            (workdir / directory).mkdir(parents=True)
        for index in range(len(representation_names(plan))):
            (workdir / layout.STREAM / f"r{index}").mkdir()  # the DASH muxer does not make them
        linked = sandbox.neutral_link(source, workdir, "input")
        args = build_command(
            plan, linked, workdir, ffmpeg=self.ffmpeg, x264_preset=self.x264_preset
        )
        try:
            finished = sandbox.run(
                args, self.limits, on_line=_ProgressReader(plan.duration, on_progress), cwd=workdir
            )
            if not finished.ok:
                raise self._failure(finished)
            finalize_stream(plan, workdir)
            if plan.audio_only:
                self._waveform(plan, linked, workdir)  # from the M4A, or else the source
            else:
                self._pictures(plan, workdir)
        finally:
            linked.unlink(missing_ok=True)
        verify_outputs(plan, workdir)  # the stream as FFmpeg wrote it; then its text tracks
        text = write_text_tracks(
            self.ffmpeg, plan, source, workdir, [t for t in plan.tracks if t.type is TrackType.TEXT]
        )
        for skipped in text.skipped:  # the asset lists them too (TranscodeOutput.dropped)
            log.warning(
                "text track %s (%s) skipped: %s", skipped.index, skipped.codec, skipped.reason
            )
        on_progress(Progress(percent=100.0, eta_seconds=0.0))
        files = [
            p.relative_to(workdir).as_posix()
            for p in sorted(workdir.rglob("*"))
            if p.is_file() and p.parts[len(workdir.parts)] in layout.DIRECTORIES
        ]
        outputs = layout.outputs(plan)
        missing = [path for path in outputs.values() if path not in files]
        if missing:
            raise TranscodeFailed(
                f"FFmpeg finished without writing {', '.join(missing)}",
                code=ErrorCode.VERIFICATION_FAILED,
            )
        return TranscodeOutput(
            files=layout.publish_order(files), outputs=outputs, dropped=text.skipped
        )

    def _pictures(self, plan: TranscodePlan, workdir: Path) -> None:
        """The poster (the most telling candidate) and the sprite's sheets and cues."""
        assert plan.sprite is not None
        poster_and_sprite(plan, plan.sprite, workdir, self.ffmpeg)

    def _waveform(self, plan: TranscodePlan, source: Path, workdir: Path) -> None:
        command = waveform_command(plan, source, workdir, ffmpeg=self.ffmpeg)
        drawn = sandbox.run(command, waveform_limits(plan.duration))
        if not drawn.ok:
            raise TranscodeFailed(
                f"the waveform could not be drawn: {drawn.stderr.strip()[-300:]}",
                code=ErrorCode.VERIFICATION_FAILED,
            )

    def measure(self, plan: TranscodePlan, workdir: Path) -> dict[str, Measured]:
        """(peak, average) video bits per second and codecs of every rendition written in
        ``workdir``: rungs from their segments, progressive files over keyframe intervals."""
        found = measured_rungs(plan, workdir)
        for rendition in plan.files:
            measured = _measure_file(workdir / layout.mp4(rendition.name), plan.gop_seconds)
            if measured:
                found[rendition.name] = measured
        return found

    def _failure(self, finished: sandbox.Finished) -> Exception:
        if finished.timed_out:
            return TranscodeFailed(
                f"the transcode took longer than {self.limits.timeout:g} s", code=ErrorCode.TIMEOUT
            )
        lines = [line.strip() for line in finished.stderr.splitlines() if line.strip()]
        detail = lines[-1][:300] if lines else f"exit code {finished.returncode}"
        if any(marker in finished.stderr for marker in TRANSIENT_MARKERS):
            return TransientError(f"FFmpeg failed: {detail}")
        return TranscodeFailed(f"FFmpeg could not transcode the upload: {detail}")


def _measure_file(path: Path, window: float) -> Measured | None:
    import av  # our own output, in the work directory

    try:
        with av.open(str(path)) as container:
            codecs = ",".join(filter(None, map(rfc6381, container.streams)))
            stream = container.streams.video[0]
            base = float(stream.time_base or 0)
            sizes: dict[int, int] = {}
            end = 0.0
            for packet in container.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                t = packet.pts * base
                end = max(end, t)
                sizes[int(t // window)] = sizes.get(int(t // window), 0) + packet.size
            rate = float(stream.average_rate or 0)
    except (av.error.FFmpegError, IndexError, FileNotFoundError):
        return None
    duration = end + (1 / rate if rate else 0)
    if not sizes or duration <= 0:
        return None
    full = [size for index, size in sizes.items() if (index + 1) * window <= duration] or [
        *sizes.values()
    ]
    return Measured(
        round(max(full) * 8 / window), round(sum(sizes.values()) * 8 / duration), codecs
    )


def rfc6381(stream: Any) -> str:
    """A stream's codec as MP4 names it (``avc1.64001f``, ``mp4a.40.2``), from its
    configuration record; "" for what vodkit does not write."""
    context = stream.codec_context
    extradata = bytes(context.extradata or b"")
    if context.name == "h264" and len(extradata) >= 4 and extradata[0] == 1:  # avcC
        return f"avc1.{extradata[1:4].hex()}"
    if context.name == "aac" and extradata:  # AudioSpecificConfig: the object type first
        return f"mp4a.40.{extradata[0] >> 3}"
    return ""


def poster_and_sprite(plan: TranscodePlan, sprite: SpritePlan, workdir: Path, ffmpeg: str) -> None:
    """From the frames captured under ``workdir``: the poster (the most telling candidate),
    the sprite's sheets and its WebVTT cues."""
    choose_poster(workdir / CANDIDATES, workdir / layout.POSTER)
    tiles = min(len(list((workdir / TILES).glob("*.jpg"))), sprite.count)
    sheet = sprite_command(plan, workdir, tiles, ffmpeg=ffmpeg)
    if not tiles or not sandbox.run(sheet, SHEET_LIMITS).ok:
        raise TranscodeFailed(
            "the scrub sprite could not be made", code=ErrorCode.VERIFICATION_FAILED
        )
    for index in range(sprite.sheets(tiles)):
        written = workdir / SHEETS / f"{index:03d}.jpg"
        if written.is_file():  # a missing one fails verification
            os.replace(written, workdir / layout.sprite_sheet(index))
    (workdir / layout.SPRITE_VTT).write_text(sprite_vtt(sprite, plan.duration, count=tiles))
