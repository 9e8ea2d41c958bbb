"""vodkit's error hierarchy.

Adapters translate third-party errors into these (``raise ... from exc``), so
services and entrypoints never need to know which technology failed. The one
distinction that matters for reliability is *permanent* (bad input: record a
FAILED status with a reason, never retry) versus *transient* (anything else:
raise, let the transport retry, then dead-letter).
"""


class VodkitError(Exception):
    """Base class of every error vodkit raises on purpose."""


class InvalidInput(VodkitError):
    """A permanent failure caused by what a user sent: the asset ends FAILED.

    ``code`` is a stable, machine-readable reason (``NotVideo``, ``InvalidKey``);
    the message is for humans and never echoes untrusted content verbatim.
    """

    code = "InvalidInput"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class InvalidKey(InvalidInput):
    code = "InvalidKey"


class InvalidEvent(InvalidInput):
    code = "InvalidEvent"


class UnsupportedMedia(InvalidInput):
    code = "UnsupportedMedia"


class LimitExceeded(InvalidInput):
    code = "LimitExceeded"


class TranscodeFailed(InvalidInput):
    code = "TranscodeFailed"


class IllegalTransition(VodkitError):
    """An asset was asked to move to a status its current status cannot reach."""


class PresetsError(VodkitError):
    """The presets file is invalid; the message names the offending field."""


class ConfigError(VodkitError):
    """Settings are missing or contradictory."""


class NotFound(VodkitError):
    """A thing the caller named does not exist."""


class ObjectNotFound(NotFound):
    pass


class AssetNotFound(NotFound):
    pass


class Conflict(VodkitError):
    """A conditional write lost: the record was not in the expected state."""


class TransientError(VodkitError):
    """A fault worth retrying (I/O, a busy database, a crashed tool)."""


class LeaseLost(TransientError):
    """A queue receipt is stale: the message was redelivered to someone else."""
