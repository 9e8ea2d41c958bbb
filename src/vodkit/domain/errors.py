"""vodkit's errors, and the one table of the reasons it records.

Adapters translate third-party errors into these, in one place per technology
(``raise ... from exc``), so services and entrypoints never need to know which
technology failed. What matters for reliability is who is at fault:

- ``INPUT``: what a user sent (an upload, a key, an event). Permanent: the asset
  ends FAILED with the reason, and retrying the same input cannot help.
- ``INTERNAL``: vodkit's own fault (its outputs failed their checks). Permanent
  too, but the reason says so: a retry after a fix may succeed.
- ``TRANSIENT``: the world was briefly unwell (a busy database, a throttled or
  unreachable service). Raised, so the transport retries, then dead-letters.

Configuration and access problems are none of these: they stop a command with
one readable line; a worker retries the message like a transient fault and then
dead-letters it, to be redriven once the operator has fixed them.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INPUT = "input"
    INTERNAL = "internal"
    TRANSIENT = "transient"


class ErrorCode(StrEnum):
    """Every reason vodkit records on an asset. Job runners may record their own
    (MediaConvert's numeric codes), which ``kind_of`` counts as internal."""

    # the user's input
    INVALID_INPUT = "InvalidInput"
    INVALID_KEY = "InvalidKey"
    INVALID_EVENT = "InvalidEvent"
    EMPTY_FILE = "EmptyFile"
    LIMIT_EXCEEDED = "LimitExceeded"
    NOT_MEDIA = "NotMedia"
    PLAYLIST = "Playlist"
    UNSUPPORTED_CONTAINER = "UnsupportedContainer"
    UNSUPPORTED_MEDIA = "UnsupportedMedia"
    PROBE_FAILED = "ProbeFailed"
    UNDECODABLE = "Undecodable"
    NO_VIDEO = "NoVideo"
    NO_DURATION = "NoDuration"
    NO_PICTURE_SIZE = "NoPictureSize"
    SOURCE_CHANGED = "SourceChanged"
    SOURCE_MISSING = "SourceMissing"
    TRANSCODE_FAILED = "TranscodeFailed"  # FFmpeg could not read the upload through
    TRUNCATED = "Truncated"
    TIMEOUT = "Timeout"
    # vodkit's own
    VERIFICATION_FAILED = "VerificationFailed"
    INTERNAL_ERROR = "InternalError"
    WORKER_LOST = "WorkerLost"  # its workers kept stopping mid-transcode


KINDS: dict[ErrorCode, ErrorKind] = {
    **dict.fromkeys(ErrorCode, ErrorKind.INPUT),
    ErrorCode.VERIFICATION_FAILED: ErrorKind.INTERNAL,
    ErrorCode.INTERNAL_ERROR: ErrorKind.INTERNAL,
    ErrorCode.WORKER_LOST: ErrorKind.INTERNAL,
}


# The user's failures a retry cannot undo: verdicts on the file itself. The rest of the
# user's kind (a limit, a timeout, a probe that crashed) may pass once settings or load change.
VERDICTS_ON_THE_FILE = frozenset(
    {
        ErrorCode.INVALID_INPUT, ErrorCode.INVALID_KEY, ErrorCode.INVALID_EVENT,
        ErrorCode.EMPTY_FILE, ErrorCode.NOT_MEDIA, ErrorCode.PLAYLIST,
        ErrorCode.UNSUPPORTED_CONTAINER, ErrorCode.UNSUPPORTED_MEDIA, ErrorCode.UNDECODABLE,
        ErrorCode.NO_VIDEO, ErrorCode.NO_DURATION, ErrorCode.NO_PICTURE_SIZE,
        ErrorCode.TRUNCATED, ErrorCode.SOURCE_CHANGED, ErrorCode.SOURCE_MISSING,
    }
)  # fmt: skip


def retry_helps(code: str) -> bool:
    """Whether another attempt could end otherwise than one that failed with ``code``."""
    return code not in VERDICTS_ON_THE_FILE


def kind_of(code: str) -> ErrorKind:
    """Whose fault a recorded reason is; a code vodkit does not know is a runner's own."""
    try:
        return KINDS[ErrorCode(code)]
    except ValueError:
        return ErrorKind.INTERNAL


class VodkitError(Exception):
    """Base class of every error vodkit raises on purpose."""


class Failure(VodkitError):
    """A permanent failure of one asset: it ends FAILED with ``code`` and this message.

    The message is for humans and never echoes untrusted content verbatim.
    """

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def kind(self) -> ErrorKind:
        return KINDS[self.code]

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(Failure):
    """Caused by what a user sent."""

    code = ErrorCode.INVALID_INPUT


class InvalidKey(InvalidInput):
    code = ErrorCode.INVALID_KEY


class InvalidEvent(InvalidInput):
    code = ErrorCode.INVALID_EVENT


class UnsupportedMedia(InvalidInput):
    code = ErrorCode.UNSUPPORTED_MEDIA


class LimitExceeded(InvalidInput):
    code = ErrorCode.LIMIT_EXCEEDED


class TranscodeFailed(Failure):
    """A transcode made no usable output; its code says whose fault that was (``Truncated``
    is the upload's, ``VerificationFailed`` vodkit's own)."""

    code = ErrorCode.TRANSCODE_FAILED


class TooManyRequests(VodkitError):
    """The caller holds as many of something as it may at once (event streams)."""


class TransientError(VodkitError):
    """A fault worth retrying (I/O, a busy database, a crashed tool, a throttled service)."""


class Unavailable(TransientError):
    """A service vodkit depends on cannot be reached, or asks to slow down."""


class LeaseLost(TransientError):
    """A queue receipt is stale: the message was redelivered to someone else."""


class ConfigError(VodkitError):
    """Settings are missing or contradictory, or name something that does not exist."""


class AccessDenied(ConfigError):
    """The credentials in use may not do what vodkit asked."""


class PresetsError(ConfigError):
    """The presets are invalid; the message names the offending field."""


class NotFound(VodkitError):
    """A thing the caller named does not exist."""


class ObjectNotFound(NotFound):
    pass


class AssetNotFound(NotFound):
    pass


class Conflict(VodkitError):
    """A conditional write lost: the record was not in the expected state."""


class NotRetryable(Conflict):
    """An asset failed for a verdict on its file (``VERDICTS_ON_THE_FILE``): a retry would
    read the same upload and meet the same reason, so it is refused (a new upload is the
    way on)."""


class IllegalTransition(VodkitError):
    """An asset was asked to move to a status its current status cannot reach."""


class Unauthenticated(VodkitError):
    """A request proves no identity: it carries no key or session, or one that is not valid."""


class Forbidden(VodkitError):
    """The caller is known, but may not do this (an admin's route, a missing CSRF token,
    an expired playback token)."""


class RangeNotSatisfiable(VodkitError):
    """A byte range that lies outside the object of ``size`` bytes."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size
