"""The ingest orchestrator: ObjectCreated -> an asset with its transcode job submitted.

Idempotent by construction: the asset id is a hash of bucket, key and version,
the job id a hash of asset id and attempt. A redelivered event finds the asset
and creates nothing. A job is submitted until its runner's id is recorded, and
never after: a redelivery that finds a job without one first asks the runner
whether an earlier delivery's submission reached it (``JobSubmitter.find``).
Bad input ends the asset FAILED with a reason; every other error propagates so
the queue retries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from ..adapters.catalog.base import Catalog
from ..adapters.events.base import EventBus
from ..adapters.probe.base import Prober
from ..adapters.queue.base import Queue
from ..adapters.storage.base import (
    SAMPLE_EDGE,
    ObjectInfo,
    ObjectStore,
    names_object,
    sampled_copy,
)
from ..adapters.transcoder.base import JobSubmitter
from ..domain import layout
from ..domain.asset import Asset, AssetError, AssetStatus, Job, JobState
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import (
    Conflict,
    ErrorCode,
    Failure,
    InvalidInput,
    InvalidKey,
    LimitExceeded,
    ObjectNotFound,
)
from ..domain.events import AssetStatusChanged, ObjectCreated
from ..domain.jobs import TranscodeJob
from ..domain.keys import asset_id_for, job_id_for, parse_upload_key
from ..domain.ladder import PlanningRules, plan_transcode
from ..domain.media import MediaInfo
from ..domain.presets import Presets
from ..domain.tracks import Tracks
from .messages import decode
from .text_conversion import TextConversion, unconverted

log = logging.getLogger(__name__)
UNKNOWN_UPLOADER = "unknown"
WIDER_SAMPLE = 8  # then 128 MiB an end: a 6 h MP4's moov is about 17 MB (47 kB a minute)


def enqueue(queue: Queue, event: ObjectCreated, *, attempt: int = 1) -> str:
    """Queue an ObjectCreated for ingest (what the EventBridge rule does); return the asset id."""
    asset_id = asset_id_for(event.bucket, event.key, event.version)
    queue.send(json.dumps(event.to_eventbridge()), dedup_id=f"{asset_id}:{attempt}")
    return asset_id


class QueueAnnouncer:
    """An upload is announced by queueing its event (embedded, cluster)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def announce(self, event: ObjectCreated) -> None:
        enqueue(self.queue, event)


class StoreAnnouncer:
    """The uploads store announces its new objects itself (S3 -> EventBridge -> SQS):
    queueing them too would deliver each twice."""

    def announce(self, event: ObjectCreated) -> None:
        pass


class IngestOrchestrator:
    def __init__(
        self,
        *,
        uploads: ObjectStore,
        catalog: Catalog,
        prober: Prober,
        submitter: JobSubmitter,
        presets: Presets,
        bus: EventBus,
        clock: Clock = utcnow,
        rules: PlanningRules | None = None,
        sample_edge: int = SAMPLE_EDGE,
        text_conversion: TextConversion | None = None,
    ) -> None:
        self.uploads = uploads
        self.catalog = catalog
        self.prober = prober
        self.submitter = submitter
        self.rules = rules or PlanningRules()
        self.presets = presets.validate(self.rules)
        self.bus = bus
        self.clock = clock
        self.sample_edge = sample_edge
        self.text_conversion = text_conversion  # AWS: ASS/SSA as WebVTT before the job

    def handle_message(self, body: str) -> Asset:
        return self.handle(ObjectCreated.from_eventbridge(decode(body)))

    def register(self, event: ObjectCreated) -> Asset:
        """The asset the upload becomes, recorded PENDING if it is not yet (idempotent): a
        front door calls it so that an upload is visible before ingest takes it in."""
        asset_id = asset_id_for(event.bucket, event.key, event.version)
        return self.catalog.get(asset_id) or self._create(asset_id, event)

    def handle(self, event: ObjectCreated) -> Asset:
        asset = self.register(event)
        redelivered = asset.status is AssetStatus.PROCESSING  # a submission may have reached
        if asset.status is AssetStatus.PENDING:
            asset = self._start(asset, event)
        if asset.status is AssetStatus.PROCESSING:
            self._submit_recorded_jobs(asset, redelivered)
        return asset

    def _create(self, asset_id: str, event: ObjectCreated) -> Asset:
        rejection: InvalidKey | None = None
        try:
            upload = parse_upload_key(event.key)
            uploader_id, filename = upload.uploader_id, upload.filename
        except InvalidKey as exc:
            uploader_id, filename, rejection = UNKNOWN_UPLOADER, "", exc
        asset, created = self.catalog.create(
            Asset.new(
                asset_id=asset_id,
                uploader_id=uploader_id,
                source_key=event.key,
                source_bucket=event.bucket,
                source_version=event.version,
                filename=filename,
                file_size=event.size,
                now=self.clock(),
            )
        )
        if created:
            log.info("asset %s created for %s", asset_id, ascii(event.key))
            self.bus.publish(AssetStatusChanged(asset_id, AssetStatus.PENDING, uploader_id))
        if rejection is not None and asset.status is AssetStatus.PENDING:
            return self._fail(asset, rejection)
        return asset

    def _start(self, asset: Asset, event: ObjectCreated) -> Asset:
        try:
            stored = self.uploads.head(asset.source_key)
            if _replaced(self.uploads, event, stored):  # jobs read the key's latest object
                raise InvalidInput(
                    "the upload was replaced before it was processed",
                    code=ErrorCode.SOURCE_CHANGED,
                )
            media = self._probe(asset.source_key, stored.size)
            plan = plan_transcode(media, self.presets, self.rules)
            if self.text_conversion is None:
                plan = unconverted(plan)
            else:
                plan = self.text_conversion.apply(
                    plan, asset.asset_id, asset.source_key, stored.size
                )
        except ObjectNotFound:
            return self._fail(
                asset, InvalidInput("the upload no longer exists", code=ErrorCode.SOURCE_MISSING)
            )
        except InvalidInput as exc:
            return self._fail(asset, exc)
        job = TranscodeJob(
            job_id=job_id_for(asset.asset_id, asset.attempt),
            asset_id=asset.asset_id,
            source_bucket=asset.source_bucket,
            source_key=asset.source_key,
            plan=plan,
            created_at=isoformat(self.clock()),
        )
        try:
            started = self.catalog.start_processing(
                asset.asset_id,
                [Job(job_id=job.job_id, state=JobState.SUBMITTED, request=job.to_dict())],
                formats=list(layout.outputs(plan)),
                renditions=plan.summary(),
                now=self.clock(),
                duration=plan.duration,
                tracks=Tracks(plan.tracks, plan.skipped),
                kind=plan.kind,
            )
        except Conflict:  # another worker got there first: its record stands
            current = self.catalog.get(asset.asset_id)
            assert current is not None
            return current
        log.info("asset %s: %d renditions planned", asset.asset_id, len(plan.summary()))
        for lost in plan.skipped:  # kept on the asset too: it completes without them
            log.info("asset %s: %s track %s (%s) skipped: %s", asset.asset_id, lost.type,
                     lost.index, lost.codec, lost.reason)  # fmt: skip
        self.bus.publish(
            AssetStatusChanged(asset.asset_id, AssetStatus.PROCESSING, started.uploader_id)
        )
        return started

    def _probe(self, key: str, size: int) -> MediaInfo:
        """Probe from the two ends of a large upload, from wider ends if that was not enough
        (a long MP4's ``moov`` can outgrow the first sample), from all of it last.

        An upload on S3 is then read in ranged GETs, not downloaded whole (on Lambda, whole
        means time and /tmp); a declared limit is final either way.
        """
        for edge in (self.sample_edge, self.sample_edge * WIDER_SAMPLE):
            with sampled_copy(self.uploads, key, size, edge) as (path, sampled):
                try:
                    return self.prober.probe(path)
                except LimitExceeded:
                    raise
                except InvalidInput as exc:
                    if not sampled:
                        raise
                    log.info("probing %d bytes at each end of %s was not enough (%s)",
                             edge, ascii(key), exc)  # fmt: skip
        with self.uploads.local_file(key) as path:
            return self.prober.probe(path)

    def _submit_recorded_jobs(self, asset: Asset, redelivered: bool) -> None:
        for job in self.catalog.jobs(asset.asset_id):
            if job.state is not JobState.SUBMITTED or job.runner_id:
                continue  # running, ended, or known to its runner: never submitted again
            transcode = TranscodeJob.from_dict(job.request)
            if not transcode.created_at:  # planned before jobs carried it: when it was recorded
                transcode = replace(transcode, created_at=job.updated_at)
            found = self.submitter.find(transcode) if redelivered else None
            runner_id = found or self.submitter.submit(transcode)
            self.catalog.record_submission(asset.asset_id, job.job_id, runner_id, self.clock())

    def _fail(self, asset: Asset, exc: Failure) -> Asset:
        code = str(exc.code)
        log.warning("asset %s rejected: %s (%s)", asset.asset_id, exc, code)
        if self.catalog.fail(asset.asset_id, AssetError(code, str(exc)), self.clock()):
            self.bus.publish(
                AssetStatusChanged(
                    asset.asset_id, AssetStatus.FAILED, asset.uploader_id, code, str(exc)
                )
            )
        failed = self.catalog.get(asset.asset_id)
        assert failed is not None
        return failed


def _replaced(store: ObjectStore, event: ObjectCreated, stored: ObjectInfo) -> bool:
    """Whether the object under the event's key is no longer the one the event announced."""
    if event.version_id and stored.version_id:
        return stored.version_id != event.version_id
    if not event.etag or event.version_id:
        return False
    return not names_object(store, stored, event.etag)
