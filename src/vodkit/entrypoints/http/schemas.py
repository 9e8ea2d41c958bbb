"""The API's shapes (frozen pydantic models): its OpenAPI document is the contract."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...domain.view import AssetView


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Chunks(Out):
    """A chunked transcode's chunks (cluster): how many, finished, running, run again."""

    count: int
    done: int
    running: int
    retried: int


class Progress(Out):
    percent: float  # of the phase
    etaSeconds: float | None = None
    phase: str = ""  # probing, analysing, encoding or packaging ("" before the first report)
    chunks: Chunks | None = None  # a chunked transcode's, while it runs


class Rendition(Out):
    name: str
    kind: str = Field(description="stream (a rung of the ladder), mp4, or m4a (audio only)")
    width: int | None = Field(None, description="none for an audio-only asset's renditions")
    height: int | None = None
    videoBitrate: int | None = Field(
        None, description="the cap: QVBR's maximum, CBR's constant rate (none: audio only)"
    )
    audioBitrate: int | None = None
    codecs: str | None = Field(None, description="RFC 6381, as encoded: video, then audio")
    rateControl: str | None = Field(
        None, description="QVBR (x264's capped CRF, or MediaConvert's QVBR) or CBR"
    )
    crf: int | None = Field(None, description="x264's CRF under the cap (QVBR, FFmpeg)")
    qvbrQualityLevel: int | None = Field(
        None, description="MediaConvert's QVBR quality level (QVBR, AWS)"
    )
    predictedVmaf: float | None = Field(None, description="per-title: the samples' prediction")
    averageBitrate: int | None = Field(None, description="measured video bits per second")
    peakBitrate: int | None = Field(None, description="measured peak (per segment)")
    analysis: str | None = Field(
        None, description="a rung's: how its rate was chosen, or why not (files have none)"
    )
    dropped: bool | None = Field(None, description="true: the per-title analysis dropped it")
    interlace: str | None = Field(
        None, description="deinterlaced or kept progressive, and why (declared fields, combing)"
    )


class AssetErrorOut(Out):
    code: str
    message: str
    kind: str = Field(description="whose fault: input (the upload's), internal (vodkit's)")


class Playback(Out):
    hls: str | None = None
    dash: str | None = None
    mp4: str | None = None
    m4a: str | None = Field(None, description="an audio-only asset's download, in place of mp4")
    poster: str | None = Field(None, description="a JPEG frame; audio only: a PNG waveform")
    sprite: str | None = None
    captions: dict[str, str] | None = Field(
        None, description="each language's WebVTT, by BCP 47 tag (its added one, if any)"
    )


class TrackOut(Out):
    type: Literal["audio", "text"]
    language: str = Field(description="BCP 47 (en, fr, pt-BR; und when unknown)")
    name: str = Field(description="the track's title, else the language's own name")
    default: bool
    forced: bool
    kind: Literal["subtitles", "captions"] | None = Field(None, description="text tracks only")
    roles: list[str] = Field(description="DASH roles: main, dub, description, subtitle...")
    channels: int | None = Field(None, description="audio: the source track's channels")
    source: Literal["embedded", "sidecar"]


class SkippedOut(Out):
    type: str = Field(description="audio, text, or the stream's own type (data, attachment)")
    codec: str
    language: str
    reason: str


class AssetOut(Out):
    """The domain's public view of an asset (``domain.view.AssetView.public``), field for
    field: one the view gains and this model lacks is refused, so it is added here, with
    its description, before anyone sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assetId: str
    status: str
    uploaderId: str
    filename: str
    createdAt: str
    updatedAt: str
    fileSize: int
    duration: float | None = Field(
        None, description="seconds, of the source's video (audio only: its sound), once probed"
    )
    kind: Literal["video", "audio"] = Field(
        "video",
        description="what the asset holds: video, or audio (sound only: an HLS/DASH audio "
        "ladder, an M4A download and a PNG waveform poster, no sprite)",
    )
    tracks: list[TrackOut] = Field(
        default_factory=list, description="its audio and text tracks, once the source is probed"
    )
    skipped: list[SkippedOut] = Field(
        default_factory=list,
        description="the source's tracks that could not be kept (a bitmap subtitle, a track "
        "over the limits...), each with its reason; the asset completes without them",
    )
    attempt: int
    progress: Progress | None = None
    renditions: list[Rendition] = Field(default_factory=list)
    errors: list[AssetErrorOut] = Field(default_factory=list)
    retryable: bool = Field(
        False,
        description="FAILED for a reason another attempt could change: POST .../retry takes it"
        " (a verdict on the file itself, NotMedia or NoVideo, answers 409)",
    )
    playback: Playback | None = None

    @classmethod
    def of(cls, view: AssetView, playback: dict[str, str] | None = None) -> AssetOut:
        shown = replace(view, playback=playback) if playback is not None else view
        return cls.model_validate(shown.public())


class AssetList(Out):
    items: list[AssetOut]
    next: str | None = Field(None, description="the cursor of the next page, if there is one")


class DeadLetterOut(Out):
    queue: str
    id: str
    receiveCount: int
    lastError: str


class DeadLetterList(Out):
    items: list[DeadLetterOut]


class Redrive(BaseModel):
    ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]] | None = Field(
        None, max_length=1000
    )
    queue: str | None = Field(None, pattern=r"^[a-z0-9-]{1,64}$")


class Redriven(Out):
    redriven: int


class Health(Out):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class WebhookIn(BaseModel):
    url: str = Field(max_length=2048, description="http(s); private addresses are refused")
    events: list[str] = Field(min_length=1, max_length=6)
    uploader: str | None = Field(None, max_length=128, description="admins: whose assets")


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    uploaderId: str
    createdAt: str
    disabled: bool = Field(False, description="true: it receives nothing any more")
    disabledReason: str | None = Field(None, description="why it was disabled (a 410 Gone)")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_...: verify each delivery's signature with it")


class WebhookList(Out):
    items: list[WebhookOut]


class AttemptOut(Out):
    at: str = Field(description="ISO 8601, UTC")
    status: int | None = None
    error: str = ""


class DeliveryOut(Out):
    id: str
    type: str
    state: str
    attempts: list[AttemptOut]
    nextAttemptAt: str | None = Field(None, description="ISO 8601, UTC; while pending")


class DeliveryList(Out):
    items: list[DeliveryOut]
