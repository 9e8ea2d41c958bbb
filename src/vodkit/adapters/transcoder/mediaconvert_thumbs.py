"""The poster and the scrub sprite of a MediaConvert job, finished when it completes.

MediaConvert captures poster candidates spread over the video and one sprite
tile every ``interval`` seconds, as single JPEGs, but can neither judge frames
nor lay tiles out. When its job completes, the status function does what the
FFmpeg path does after its run: the candidate with the most contrast becomes
``thumbs/poster.jpg`` (black, white and flat frames lose), and the tiles are
sheeted into ``thumbs/sprite.jpg`` (and ``sprite-2.jpg``... for a long video)
with ``thumbs/sprite.vtt``, before the asset may turn COMPLETED. A redelivered
event writes the same files again.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...domain.events import JobStateChanged
from ...domain.jobs import TranscodeJob
from ..catalog.base import Catalog
from ..storage.base import ObjectStore
from .thumbs import choose_poster, sheet_tiles, sprite_vtt

log = logging.getLogger(__name__)
# Under the asset's prefix, where the job's frame-capture groups write NAME.NNNNNNN.jpg.
CANDIDATES = "thumbs/candidates/"
TILES = "thumbs/tiles/"
PARALLEL_FETCHES = 16


class MediaConvertThumbnails:
    def __init__(self, outputs: ObjectStore, catalog: Catalog) -> None:
        self.outputs = outputs
        self.catalog = catalog

    def __call__(self, event: JobStateChanged) -> dict[str, str]:
        """Finish the completed job's thumbnails; return the outputs they are."""
        recorded = [j for j in self.catalog.jobs(event.asset_id) if j.job_id == event.job_id]
        if not recorded:
            return {}  # not a job of this asset: the catalog refuses the event itself
        job = TranscodeJob.from_dict(recorded[0].request)
        prefix, finished = job.output_prefix, {}
        with tempfile.TemporaryDirectory(prefix="vodkit-thumbs-") as tmp:
            candidates = self._fetch(prefix + CANDIDATES, Path(tmp) / "candidates")
            if candidates:
                poster = Path(tmp) / "poster.jpg"
                choose_poster(candidates[0].parent, poster)
                self.outputs.put_file(prefix + "thumbs/poster.jpg", poster)
                finished["poster"] = prefix + "thumbs/poster.jpg"
            sprite = job.plan.sprite
            tiles = self._fetch(prefix + TILES, Path(tmp) / "tiles")[: sprite.count]
            if tiles:
                count = sheet_tiles(tiles, sprite, Path(tmp) / "sheets")
                for sheet in range(sprite.sheets(count)):
                    name = sprite.sheet_name(sheet)
                    self.outputs.put_file(f"{prefix}thumbs/{name}", Path(tmp) / "sheets" / name)
                cues = sprite_vtt(sprite, job.plan.duration, count=count)
                self.outputs.put_stream(prefix + "thumbs/sprite.vtt", io.BytesIO(cues.encode()))
                finished["sprite"] = prefix + "thumbs/sprite.vtt"
        for missing in sorted({"poster", "sprite"} - set(finished)):
            log.warning("asset %s: its job left nothing for the %s", event.asset_id, missing)
        return finished

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
