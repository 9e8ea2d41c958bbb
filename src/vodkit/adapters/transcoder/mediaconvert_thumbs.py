"""The poster and the scrub sprite of a MediaConvert job, finished when it completes.

MediaConvert captures poster candidates spread over the video and one sprite
tile every ``interval`` seconds, as single JPEGs, but can neither judge frames
nor lay tiles out. When its job completes, the status function does what the
FFmpeg path does after its run: the candidate with the most contrast becomes
``thumbs/poster.jpg`` (black, white and flat frames lose), and the tiles are
sheeted into ``thumbs/sprite.jpg`` (and ``sprite-2.jpg``... for a long video)
with ``thumbs/sprite.vtt``, before the asset may turn COMPLETED (the status
processor calls ``finish``). An audio-only job's poster is its waveform, drawn from the
M4A the job wrote (``waveform``) to ``thumbs/poster.png``. A redelivered event writes the
same files again.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...domain import layout
from ...domain.asset import Job
from ...domain.errors import ObjectNotFound, TranscodeFailed
from ...domain.jobs import TranscodeJob
from ..storage.base import ObjectStore
from .thumbs import choose_poster, sheet_tiles, sprite_vtt
from .waveform import draw_waveform

log = logging.getLogger(__name__)
PARALLEL_FETCHES = 16


class MediaConvertThumbnails:
    makes: tuple[str, ...] = ("poster", "sprite")

    def __init__(self, outputs: ObjectStore) -> None:
        self.outputs = outputs

    def finish(self, asset_id: str, job: Job) -> dict[str, str]:
        """Finish the completed job's thumbnails; return the outputs they are."""
        transcode = TranscodeJob.from_dict(job.request)
        if transcode.plan.audio_only:
            return self._waveform(asset_id, transcode)
        prefix, finished = transcode.output_prefix, {}
        with tempfile.TemporaryDirectory(prefix="vodkit-thumbs-") as tmp:
            # where the job's frame-capture groups wrote NAME.NNNNNNN.jpg
            candidates = self._fetch(prefix + layout.POSTER_CANDIDATES, Path(tmp) / "candidates")
            if candidates:
                poster = Path(tmp) / "poster.jpg"
                choose_poster(candidates[0].parent, poster)
                self.outputs.put_file(prefix + layout.POSTER, poster)
                finished["poster"] = prefix + layout.POSTER
            sprite = transcode.plan.sprite
            assert sprite is not None  # audio-only plans are finished by _waveform
            tiles = self._fetch(prefix + layout.SPRITE_TILES, Path(tmp) / "tiles")[: sprite.count]
            if tiles:
                count = sheet_tiles(tiles, sprite, Path(tmp) / "sheets")
                for sheet in range(sprite.sheets(count)):
                    sheeted = Path(tmp) / "sheets" / sprite.sheet_name(sheet)
                    self.outputs.put_file(prefix + layout.sprite_sheet(sheet), sheeted)
                cues = sprite_vtt(sprite, transcode.plan.duration, count=count)
                self.outputs.put_stream(prefix + layout.SPRITE_VTT, io.BytesIO(cues.encode()))
                finished["sprite"] = prefix + layout.SPRITE_VTT
        for missing in sorted({"poster", "sprite"} - set(finished)):
            log.warning("asset %s: its job left nothing for the %s", asset_id, missing)
        return finished

    def _waveform(self, asset_id: str, transcode: TranscodeJob) -> dict[str, str]:
        """An audio-only asset's poster: the waveform of the M4A its job wrote."""
        plan, prefix = transcode.plan, transcode.output_prefix
        if not plan.downloads:  # presets without an MP4 output: nothing of its own to draw
            log.warning("asset %s: no M4A to draw the waveform from", asset_id)
            return {}
        with tempfile.TemporaryDirectory(prefix="vodkit-waveform-") as tmp:
            m4a, png = Path(tmp) / "sound.m4a", Path(tmp) / "poster.png"
            try:
                key = prefix + layout.m4a(plan.downloads[0].name)
                with self.outputs.open(key) as source, m4a.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                draw_waveform(m4a, png, (plan.poster.width, plan.poster.height), plan.duration)
            except (ObjectNotFound, TranscodeFailed) as exc:
                # as for a video whose captures are missing: the asset completes without it
                log.error("asset %s: no waveform poster: %s", asset_id, exc)
                return {}
            self.outputs.put_file(prefix + layout.WAVEFORM, png)
        return {"poster": prefix + layout.WAVEFORM}

    def _fetch(self, prefix: str, directory: Path) -> list[Path]:
        """The JPEGs under ``prefix``, in capture order, as local files.

        Fetched a few at a time: a long video has a tile every few seconds, and one GET
        after another would spend most of the function's time waiting on S3.
        """
        keys = sorted(o.key for o in self.outputs.list(prefix) if o.key.endswith(".jpg"))
        directory.mkdir()
        paths = [directory / f"{index:05d}.jpg" for index in range(len(keys))]

        def fetch(key: str, path: Path) -> None:
            with self.outputs.open(key) as source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink)

        with ThreadPoolExecutor(max_workers=PARALLEL_FETCHES) as pool:
            list(pool.map(fetch, keys, paths))  # list(): raise the first failure here
        return paths
