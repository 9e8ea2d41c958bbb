"""The scrub sprite of a MediaConvert job, sheeted when the job completes.

MediaConvert captures one tile every ``interval`` seconds as single JPEGs under
``{asset}/thumbs/tiles/`` but cannot lay them out. When its job completes, the
status function sheets them into ``thumbs/sprite.jpg`` and writes
``thumbs/sprite.vtt``: the outputs the FFmpeg path makes, before the asset may
turn COMPLETED. A redelivered event writes the same files again; the tiles stay.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from pathlib import Path

from ...domain.events import JobStateChanged
from ...domain.jobs import TranscodeJob
from ..catalog.base import Catalog
from ..storage.base import ObjectStore
from .thumbs import sheet_tiles, sprite_vtt

log = logging.getLogger(__name__)
TILES = "thumbs/tiles/"  # under the asset's prefix; the job's tiles group writes tile.NNNNNNN.jpg


class MediaConvertSprite:
    def __init__(self, outputs: ObjectStore, catalog: Catalog) -> None:
        self.outputs = outputs
        self.catalog = catalog

    def __call__(self, event: JobStateChanged) -> dict[str, str]:
        """Sheet the completed job's tiles; return the outputs it added."""
        recorded = [j for j in self.catalog.jobs(event.asset_id) if j.job_id == event.job_id]
        if not recorded:
            return {}  # not a job of this asset: the catalog refuses the event itself
        job = TranscodeJob.from_dict(recorded[0].request)
        prefix, sprite = job.output_prefix, job.plan.sprite
        keys = sorted(o.key for o in self.outputs.list(prefix + TILES) if o.key.endswith(".jpg"))
        if not keys:
            log.warning("asset %s: its job wrote no sprite tiles", event.asset_id)
            return {}
        with tempfile.TemporaryDirectory(prefix="vodkit-sprite-") as tmp:
            tiles = []
            for index, key in enumerate(keys[: sprite.count]):
                tiles.append(Path(tmp) / f"{index:05d}.jpg")
                with self.outputs.open(key) as source, tiles[-1].open("wb") as sink:
                    shutil.copyfileobj(source, sink)
            sheet = Path(tmp) / "sprite.jpg"
            count = sheet_tiles(tiles, sprite, sheet)
            self.outputs.put_file(prefix + "thumbs/sprite.jpg", sheet)
        cues = sprite_vtt(sprite, job.plan.duration, count=count)
        self.outputs.put_stream(prefix + "thumbs/sprite.vtt", io.BytesIO(cues.encode()))
        return {"sprite": prefix + "thumbs/sprite.vtt"}
