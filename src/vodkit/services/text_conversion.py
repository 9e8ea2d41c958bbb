"""Text tracks a MediaConvert job cannot read (ASS/SSA), made WebVTT by vodkit before the job.

The ingest (the AWS footprint's) copies the upload to local storage, within a size limit,
and has a ``TextConverter`` read those tracks' cues in a sandboxed child; it writes each as
sanitised WebVTT at the track's caption key (``captions/{lang}.vtt``, as the asset's text
tracks name them in order), where the job's caption selector reads it with
``FileSourceSettings`` (``adapters.transcoder.mediaconvert_captions``) and where it is the
track's download. A track that cannot be read (too large, unreadable, no cues; no converter
here: ``unconverted``) is moved to the plan's ``skipped`` with its reason: the asset never
fails for it. Only a transient fault (S3, a full disk) propagates: the ingest is retried.
"""

from __future__ import annotations

import io
import logging

from ..adapters.storage.base import ObjectStore
from ..adapters.transcoder.base import TextConverter
from ..domain import layout
from ..domain.captions import to_webvtt
from ..domain.errors import LimitExceeded
from ..domain.ladder import NO_ASS_HERE, converted_text
from ..domain.plan import TranscodePlan
from ..domain.subtitles import CMAF_MPEGTS
from ..domain.tracks import Skipped, Track, TrackType

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 4 * 1024**3  # read whole for its text: minutes of an ingest function's time


class TextConversion:
    def __init__(
        self,
        *,
        uploads: ObjectStore,
        outputs: ObjectStore,
        converter: TextConverter,
        max_source_bytes: int = MAX_SOURCE_BYTES,
    ) -> None:
        self.uploads = uploads
        self.outputs = outputs
        self.converter = converter
        self.max_source_bytes = max_source_bytes

    def apply(
        self, plan: TranscodePlan, asset_id: str, source_key: str, size: int
    ) -> TranscodePlan:
        """``plan`` with its converted tracks' WebVTT written, and the others skipped."""
        wanted = converted_text(plan)
        if not wanted:
            return plan
        if size > self.max_source_bytes:
            why = (
                f"the upload is {size / 1e9:.1f} GB; its ASS/SSA text is read only from uploads "
                f"of up to {self.max_source_bytes / 1e9:.1f} GB (add it as a sidecar caption)"
            )
            return plan.dropping([_skip(t, why) for t in wanted])
        try:
            with self.uploads.local_file(source_key) as path:
                found = self.converter.convert(path, plan.demuxer, wanted)
        except LimitExceeded as exc:  # larger than the local disk: a retry cannot help
            return plan.dropping([_skip(t, str(exc)) for t in wanted])
        lost = [*found.skipped] + [
            _skip(t, "its text could not be read")
            for t in wanted
            if t.index not in found.cues and all(s.index != t.index for s in found.skipped)
        ]
        plan = plan.dropping(lost)
        texts = [t for t in plan.tracks if t.type is TrackType.TEXT]
        prefix = layout.prefix(asset_id)
        for track, key in zip(texts, layout.captions([t.language for t in texts]), strict=True):
            if track in wanted and track.index in found.cues:
                webvtt = to_webvtt(found.cues[track.index], mpegts=CMAF_MPEGTS)
                self.outputs.put_stream(prefix + key, io.BytesIO(webvtt.encode()))
                log.info("asset %s: %s track %s written as %s", asset_id, track.codec,
                         track.index, key)  # fmt: skip
        return plan


def unconverted(plan: TranscodePlan) -> TranscodePlan:
    """``plan`` where no converter runs: the tracks it would need skipped, with why."""
    return plan.dropping([_skip(t, NO_ASS_HERE) for t in converted_text(plan)])


def _skip(track: Track, reason: str) -> Skipped:
    return Skipped("text", track.codec, track.language, reason, track.index)
