"""A MediaConvert job's HLS master and MPD given vodkit's text-track policy, once, when it
completes.

MediaConvert writes each caption output into its manifests itself, but marks the first one
``DEFAULT=YES`` in HLS even when no text track is default, and knows nothing of vodkit's
``FORCED`` and ``CHARACTERISTICS``. The status function therefore rewrites both manifests
with vodkit's own transform (``domain.subtitles.with_text_tracks``, the one a sidecar caption
change republishes with: idempotent, so a redelivered event writes the same bytes): every
text track then points at its download, ``captions/{lang}.vtt``, with its subtitle playlist
written first and the master and the MPD last.
"""

from __future__ import annotations

import io
import logging

from ...domain import layout
from ...domain.asset import Job
from ...domain.jobs import TranscodeJob
from ...domain.subtitles import TextRendition, with_text_tracks
from ...domain.tracks import TrackType
from ..storage.base import ObjectStore

log = logging.getLogger(__name__)
DESTINATION = "master"  # the CMAF group's: stream/master.m3u8 and stream/master.mpd


class MediaConvertManifests:
    makes: tuple[str, ...] = ()  # the job made the manifests; this only rewrites them

    def __init__(self, outputs: ObjectStore) -> None:
        self.outputs = outputs

    def finish(self, asset_id: str, job: Job) -> dict[str, str]:
        transcode = TranscodeJob.from_dict(job.request)
        plan = transcode.plan
        texts = [t for t in plan.tracks if t.type is TrackType.TEXT]
        if not texts:
            return {}
        keys = layout.captions([t.language for t in texts])
        renditions = [TextRendition(t, k) for t, k in zip(texts, keys, strict=True)]
        base = transcode.output_prefix + layout.STREAM + DESTINATION
        master, mpd = base + ".m3u8", base + ".mpd"
        manifests = with_text_tracks(self._read(master), self._read(mpd), renditions, plan.duration)
        for key, text in manifests.playlists.items():
            self.outputs.put_stream(transcode.output_prefix + key, io.BytesIO(text.encode()))
        self.outputs.put_stream(master, io.BytesIO(manifests.master.encode()))
        self.outputs.put_stream(mpd, io.BytesIO(manifests.mpd.encode()))
        log.info("asset %s: %d text tracks set in its manifests", asset_id, len(renditions))
        return {}

    def _read(self, key: str) -> str:
        with self.outputs.open(key) as stream:
            return stream.read().decode("utf-8")
