"""botocore's errors, mapped once onto vodkit's (every AWS adapter's calls go through here).

A refused or timed-out connection and a throttled or failing service are
``Unavailable`` (transient: retried); denied credentials are ``AccessDenied``
and a missing table, bucket or queue a ``ConfigError`` (the operator must act);
anything else AWS refuses is a plain ``VodkitError`` that names the call. The
adapters still look at the codes that mean something to them (a missing
object, a lost conditional write) before these apply.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from boto3.exceptions import Boto3Error
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from ..domain.errors import AccessDenied, ConfigError, Unavailable, VodkitError

P = ParamSpec("P")
R = TypeVar("R")

THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "SlowDown", "RequestLimitExceeded",
    "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "BandwidthLimitExceeded", "PriorRequestNotComplete", "RequestTimeout",
    "RequestTimeoutException", "ServiceUnavailable", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServerException", "ServiceException",
})  # fmt: skip
DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
    "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
    "ExpiredTokenException", "InvalidToken", "AuthFailure", "ForbiddenException",
    "MissingAuthenticationToken", "AllAccessDisabled", "KMS.AccessDeniedException",
    "InvalidSignatureException",
})  # fmt: skip
MISSING = frozenset({
    "ResourceNotFoundException", "NoSuchBucket", "NotFoundException", "ParameterNotFound",
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue",
})  # fmt: skip


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _mapped(exc: ClientError) -> VodkitError:
    code = error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = str(exc.response.get("Error", {}).get("Message", "")) or code
    call = f"{exc.operation_name} ({code or status})"
    if code in THROTTLED or status == 429 or status >= 500:
        return Unavailable(f"AWS could not answer {call} now: {message}")
    if code in DENIED or status == 403:
        return AccessDenied(f"AWS refused {call}: the credentials in use may not: {message}")
    if code in MISSING:
        return ConfigError(f"AWS refused {call}: {message} (check the VODKIT_ settings)")
    return VodkitError(f"AWS refused {call}: {message}")


@contextmanager
def aws_errors() -> Iterator[None]:
    """Raise vodkit's errors for botocore's, leaving vodkit's own alone."""
    try:
        yield
    except ClientError as exc:
        raise _mapped(exc) from exc
    except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
        raise Unavailable(f"cannot reach AWS: {exc}") from exc
    except (NoCredentialsError, PartialCredentialsError, NoRegionError, ProfileNotFound) as exc:
        raise ConfigError(f"AWS is not configured: {exc}") from exc
    except (BotoCoreError, Boto3Error) as exc:  # Boto3Error: S3 transfers (upload_file)
        raise VodkitError(f"AWS call failed: {exc}") from exc


def aws_call(method: Callable[P, R]) -> Callable[P, R]:
    """``aws_errors`` around a method, or around every step of a generator method."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generate(*args: P.args, **kwargs: P.kwargs) -> Any:
            with aws_errors():
                yield from method(*args, **kwargs)

        return generate

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with aws_errors():
            return method(*args, **kwargs)

    return call


def client(service: str, **options: Any) -> Any:
    """A boto3 client (the aws extra); it connects on its first call, not here."""
    import boto3

    with aws_errors():
        return boto3.client(service, **options)
