"""Every AWS adapter turns botocore's failures into vodkit's: a refused endpoint, a denied
call and a throttled one, each answered over real HTTP, in the protocol of its service."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.fakes import HD
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.metrics.cloudwatch import CloudWatchMetrics
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.presets.ssm import load_presets_from_ssm
from vodkit.adapters.queue.sqs import SqsQueue
from vodkit.adapters.storage.s3 import S3ObjectStore
from vodkit.adapters.transcoder.mediaconvert import MediaConvertJobSubmitter
from vodkit.domain.errors import AccessDenied, Unavailable, VodkitError
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import plan_transcode

pytestmark = pytest.mark.integration
JOB = TranscodeJob(
    "job-1",
    "asset-1",
    "uploads",
    "uploads/a/x.mp4",
    plan_transcode(HD, load_presets()),
    created_at="2026-12-01T00:00:00.000000Z",
)
# What the server answers, by protocol, as each service says it: (HTTP status, error code)
FAULTS = {
    "denied": {"xml": (403, "AccessDenied"), "json": (400, "AccessDeniedException"),
               "rest-json": (403, "ForbiddenException"), "cbor": (403, "AccessDenied")},
    "throttled": {"xml": (503, "SlowDown"), "json": (400, "ThrottlingException"),
                  "rest-json": (429, "TooManyRequestsException"), "cbor": (400, "Throttling")},
    "overloaded": {"xml": (503, "ServiceUnavailable"), "json": (500, "InternalServerError"),
                   "rest-json": (503, "ServiceUnavailable"), "cbor": (503, "ServiceUnavailable")},
}  # fmt: skip


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 24
    return bytes([0x60 + len(data)]) + data


class AwsLikeServer(ThreadingHTTPServer):
    """Answers every request with one error, shaped as the calling protocol expects."""

    fault: dict[str, tuple[int, str]] = FAULTS["overloaded"]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                content_type = self.headers.get("Content-Type", "")
                headers = {"x-amzn-RequestId": "test"}
                if "cbor" in content_type:
                    protocol = "cbor"  # CloudWatch: Smithy RPC v2 CBOR
                elif self.path.startswith("/2017-08-29"):
                    protocol = "rest-json"  # MediaConvert
                elif "amz-json" in content_type:
                    protocol = "json"  # DynamoDB, SQS, SSM
                else:
                    protocol = "xml"  # S3
                status, code = server.fault[protocol]
                if protocol == "cbor":
                    body = b"\xa2" + _cbor_text("__type") + _cbor_text(code)
                    body += _cbor_text("message") + _cbor_text("injected")
                    headers |= {
                        "Content-Type": "application/cbor",
                        "smithy-protocol": "rpc-v2-cbor",
                    }
                elif protocol in ("json", "rest-json"):
                    body = json.dumps({"__type": code, "message": "injected"}).encode()
                    headers |= {
                        "Content-Type": "application/x-amz-json-1.1",
                        "x-amzn-ErrorType": code,
                    }
                else:  # S3's REST-XML
                    body = (
                        f"<?xml version='1.0'?><Error><Code>{code}</Code>"
                        "<Message>injected</Message></Error>"
                    ).encode()
                    headers["Content-Type"] = "application/xml"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

        return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[AwsLikeServer]:
    httpd = AwsLikeServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.RequestHandlerClass = httpd.handler()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()  # their connection pools' sockets


def _client(service: str, endpoint: str) -> Any:
    client = boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    OPENED.append(client)
    return client


CALLS: dict[str, Callable[[str], object]] = {
    "s3 head": lambda url: S3ObjectStore(_client("s3", url), "b").head("uploads/a/x.mp4"),
    "s3 put": lambda url: S3ObjectStore(_client("s3", url), "b").put_stream(
        "uploads/a/x.mp4", __import__("io").BytesIO(b"data")
    ),
    "s3 list": lambda url: list(S3ObjectStore(_client("s3", url), "b").list("uploads/")),
    "dynamodb get": lambda url: DynamoDbCatalog(_client("dynamodb", url), "t").get("a"),
    "dynamodb query": lambda url: DynamoDbCatalog(_client("dynamodb", url), "t").query(limit=5),
    "sqs depth": lambda url: SqsQueue(_client("sqs", url), f"{url}/123/q", dlq_url=None).depth(),
    "sqs send": lambda url: SqsQueue(_client("sqs", url), f"{url}/123/q").send("{}"),
    "mediaconvert submit": lambda url: MediaConvertJobSubmitter(
        _client("mediaconvert", url), role_arn="arn:aws:iam::1:role/r", outputs_bucket="o"
    ).submit(JOB),
    "mediaconvert find": lambda url: MediaConvertJobSubmitter(
        _client("mediaconvert", url), role_arn="arn:aws:iam::1:role/r", outputs_bucket="o"
    ).find(JOB),
    "cloudwatch put": lambda url: CloudWatchMetrics(
        _client("cloudwatch", url), namespace="N", environment="e"
    ).increment("ProcessedAssets"),
    "ssm presets": lambda url: load_presets_from_ssm(_client("ssm", url), "/p"),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_refused_endpoint_is_unavailable(call: str) -> None:
    with pytest.raises(Unavailable, match="cannot reach AWS"):
        CALLS[call](f"http://127.0.0.1:{_closed_port()}")


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("call", CALLS)
def test_denied_and_throttled_calls_are_mapped(
    server: AwsLikeServer, call: str, fault: str
) -> None:
    server.fault = FAULTS[fault]
    url = f"http://127.0.0.1:{server.server_address[1]}"
    expected: type[VodkitError] = AccessDenied if fault == "denied" else Unavailable
    started = datetime.now(UTC)
    with pytest.raises(expected) as raised:
        CALLS[call](url)
    assert (datetime.now(UTC) - started).total_seconds() < 30
    assert "\n" not in str(raised.value)  # one line for a person to read
