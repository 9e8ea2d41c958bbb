"""Every operation of the HTTP API fuzzed by schemathesis against a live server: its
OpenAPI document is the contract, so no answer may be a 5xx, a status or a media type
it does not document, or a body its schema refuses.

The server is real (uvicorn on a loopback port, the embedded footprint) and holds real
things to find: a COMPLETED asset with its outputs and playback token, FAILED and PENDING
ones, tus uploads half-way through, a webhook. Generation draws from dictionaries of
those ids and of the values the protocols expect (``Tus-Resumable: 1.0.0``, byte ranges,
output paths) with a probability below one, so the fuzzer reaches the code behind the
404s and 412s as well as sending the random and the invalid. It runs as an admin (every
route, the admin-only ones too), as a plain uploader, and with no key or a wrong one.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_server import Served, serve
from tests.conftest import make_clip

pytestmark = pytest.mark.e2e
# tus sends chunks as application/offset+octet-stream: bytes, as for application/octet-stream
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
TUS = {"Tus-Resumable": "1.0.0"}
PLAY = "/play/{asset_id}/{token}/{path}"
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
# Hostile spellings a parser meets: digits str.isdigit() takes and int() refuses; a byte
# beyond ASCII (obs-text in a header, %C3%A9 in a path), which str APIs of ASCII refuse.
SEEMS_A_NUMBER, NOT_ASCII = "\u00b2", "\u00e9"
ADMIN_EXAMPLES, UPLOADER_EXAMPLES, NOBODY_EXAMPLES = 100, 20, 5  # per operation


@dataclasses.dataclass
class World:
    """The live server and the real things in it that generation draws from."""

    served: Served
    admin: str  # API keys
    uploader: str  # alice's
    completed: str  # the seeder's asset, with outputs ...
    token: str  # ... and its playback token
    other_token: str  # a live token of another asset
    expired_token: str  # a well-signed token of the completed asset, expired
    outputs: list[str]  # the completed asset's outputs, under its token
    failed: str  # the seeder's, FAILED (a retry turns it PENDING)
    deletable: str  # FAILED too: what DELETE may remove
    alices: str  # alice's own asset (FAILED)
    upload: str  # a tus upload of 100 bytes, 10 sent
    alices_upload: str  # alice's, 3 of 100 bytes sent
    doomed_upload: str  # what tus DELETE may remove
    webhook: str  # a subscription of the seeder's, if the API has webhooks
    cursor: str  # a cursor GET /v1/assets gave out


def _upload(client: httpx.Client, name: str, body: bytes) -> str:
    reply = client.post("/v1/assets", params={"filename": name}, content=body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["assetId"])


def _tus(client: httpx.Client, sent: bytes = b"") -> str:
    reply = client.post("/v1/uploads", headers={**TUS, "Upload-Length": "100"})
    assert reply.status_code == 201, reply.text
    upload_id = reply.headers["location"].rsplit("/", 1)[1]
    if sent:
        offset = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        patched = client.patch(f"/v1/uploads/{upload_id}", headers=offset, content=sent)
        assert patched.status_code == 204, patched.text
    return str(upload_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fuzz")
    data = root / "data"
    clip = make_clip(root / "tiny.mp4", size="320x180", seconds=1, audio=None)
    # First with a worker, for assets that went through the pipeline ...
    with serve(data) as seeding:
        seeder = seeding.client("seeder", admin=True)
        completed = _upload(seeder, "tiny.mp4", clip.read_bytes())
        failed = _upload(seeder, "junk.mp4", b"not a video")
        deletable = _upload(seeder, "junk-2.mp4", b"not a video either")
        alices = _upload(seeding.client("alice"), "alices.mp4", b"nor this")
        seeding.wait_for(seeder, completed, "COMPLETED", timeout=60)
        for asset_id in (failed, deletable, alices):
            seeding.wait_for(seeder, asset_id, "FAILED", timeout=60)
    # ... then without one, so that nothing changes behind the fuzzer's back.
    with serve(data, worker=False) as served:
        seeder = served.client("seeder", admin=True)
        token = seeder.get(f"/v1/assets/{completed}").json()["playback"]["hls"].split("/")[5]
        prefix = f"{completed}/"
        outputs = [o.key.removeprefix(prefix) for o in served.api.app.outputs.list(prefix)]
        assert "stream/master.m3u8" in outputs, outputs
        tokens = served.api.playback
        a_week_ago = dataclasses.replace(tokens, clock=lambda: time.time() - 7 * 86400)
        page = seeder.get("/v1/assets", params={"limit": 1}).json()
        subscription = {"url": "http://127.0.0.1:9/", "events": ["asset.failed"]}
        hook = seeder.post("/v1/webhooks", json=subscription)
        assert hook.status_code in (201, 404), hook.text  # 404: no webhooks in this API
        yield World(
            served=served,
            admin=served.key("fuzz-admin", admin=True),
            uploader=served.key("alice"),
            completed=completed,
            token=token,
            other_token=tokens.issue(failed),
            expired_token=a_week_ago.issue(completed),  # type: ignore[attr-defined]
            outputs=outputs,
            failed=failed,
            deletable=deletable,
            alices=alices,
            upload=_tus(seeder, b"0123456789"),
            alices_upload=_tus(served.client("alice"), b"abc"),
            doomed_upload=_tus(seeder),
            webhook=hook.json()["id"] if hook.status_code == 201 else "",
            cursor=page["next"],
        )


def _dictionaries(world: World, token: str | None) -> dict[str, list[str]]:
    # fmt: off
    return {
        "keys": [token or "vk_nonsense", "vk_" + "0" * 16 + "_" + "A" * 43, f"vk_{NOT_ASCII}"],
        "assets": [world.completed, world.failed, world.alices, world.deletable],
        "deletable": [world.deletable],
        "playable": [world.completed],
        "tokens": [
            world.token, world.other_token, world.expired_token, world.token + "x",
            f"{world.token.split('.')[0]}.{SEEMS_A_NUMBER}", SEEMS_A_NUMBER,
            f"{world.token.split('.')[0]}.{NOT_ASCII}",
        ],
        "paths": [
            *world.outputs, "stream", "stream/", "mp4/none.mp4", "secret.key", "../secret.key",
            "stream/../../secret.key", "stream/./master.m3u8", "stream//master.m3u8",
            f"../{world.failed}/stream/master.m3u8",
        ],
        "ranges": [
            "bytes=0-99", "bytes=10-", "bytes=-10", "bytes=0-0", "bytes=5-1", "bytes=-0",
            "bytes=0-", "bytes=99999999999-", "bytes=0-99999999999999999999", "bytes=0-1,5-6",
            "bytes=", "bytes=-", "items=0-1", "bytes= 1-2",
        ],
        "uploads": [world.upload, world.alices_upload, world.doomed_upload],
        "doomed-uploads": [world.doomed_upload],
        "webhooks": [world.webhook or "wh_none"],
        "uploaders": ["alice", "seeder", "fuzz-admin", "nobody", "no/such", ".hidden"],
        "statuses": ["COMPLETED", "FAILED", "PENDING", "PROCESSING"],
        "cursors": [world.cursor],
        "tus-versions": ["1.0.0"],
        "lengths": ["0", "1", "100", "9999999999999999999", "-1", "0x10", "1e3", SEEMS_A_NUMBER],
        "offsets": ["0", "3", "10", "100", "-1", SEEMS_A_NUMBER],
        "offset-types": ["application/offset+octet-stream"],
        "metadata": [
            "filename dGlueS5tcDQ=", "filename", "filename dGlueS5tcDQ=,is_confidential",
            "bad key dGlueQ==", "filename not-base64!", "filename //79", f"filename {NOT_ASCII}",
        ],
        "checksums": [
            "sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "md5 1B2M2Y8AsgTpgAmY7PhCfg==",
            "sha256 47DEQpj8HBSa+/TI9W5Ex8wRmcnQBOfa4jmRhUsE8h4=", "crc32 AAAAAA==",
            "sha1 not-base64", "sha1", f"sha1 {NOT_ASCII}",
        ],
        "queues": ["ingest", "transcode", "nope"],
        "hook-urls": [
            "http://127.0.0.1:9/hook", "https://example.com/hook", "http://[::1]:9/",
            "ftp://example.com/", "http://user:pw@example.com/", "http://example.com:99999/",
            "http://[::1", "http://[example.com]/",
        ],
        "hook-events": [
            "asset.created", "asset.processing", "asset.completed", "asset.failed",
            "asset.deleted", "asset.updated", "asset.nope",
        ],
        "languages": ["en", "fr", "pt-BR", "zh-Hans", "und", "en_US", "x" * 40, NOT_ASCII],
    }
    # fmt: on


def _config(world: World, token: str | None, max_examples: int) -> SchemathesisConfig:
    """How schemathesis runs: ``token`` as the bearer, the world's values to draw from (a
    dictionary's value stands in for a generated one with the binding's probability)."""

    def draw(dictionary: str, probability: float = 0.5) -> dict[str, Any]:
        return {"dictionary": dictionary, "probability": probability}

    no_reuse = {"extra-data-sources": {"responses": False}}
    return SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"} if token is not None else {},
            "request-timeout": 10,
            "max-stream-events": 1,  # a PENDING asset's events never end
            "generation": {
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "dictionaries": {
                name: {"values": values} for name, values in _dictionaries(world, token).items()
            },
            "parameters": {
                "path.asset_id": draw("assets"),
                "path.upload_id": draw("uploads"),
                "path.webhook_id": draw("webhooks"),
                "path.lang": draw("languages", 0.7),
                "query.uploader": draw("uploaders", 0.3),
                "query.status": draw("statuses", 0.3),
                "query.cursor": draw("cursors", 0.3),
                "header.tus-resumable": draw("tus-versions", 0.8),
                "header.upload-length": draw("lengths", 0.6),
                "header.upload-offset": draw("offsets", 0.6),
                "header.upload-metadata": draw("metadata", 0.4),
                "header.upload-checksum": draw("checksums", 0.4),
                "header.content-type": draw("offset-types", 0.6),
                "body.key": draw("keys"),  # the run's own key (or none): /v1/session
                "body.queue": draw("queues"),
                "body.uploader": draw("uploaders", 0.3),
                "body.url": draw("hook-urls", 0.6),
                "body.events[*]": draw("hook-events", 0.7),
            },
            "operations": [
                {
                    "include-path": PLAY,
                    "parameters": {
                        "path.asset_id": draw("playable", 0.8),
                        "path.token": draw("tokens", 0.8),
                        "path.path": draw("paths", 0.8),
                        "header.range": draw("ranges", 0.6),
                    },
                },
                {  # the completed asset stays, for /play (not from other answers, either)
                    "include-path": "/v1/assets/{asset_id}",
                    "include-method": "DELETE",
                    "parameters": {"path.asset_id": draw("deletable")},
                    "phases": {"examples": no_reuse, "coverage": no_reuse, "fuzzing": no_reuse},
                },
                {
                    "include-path": "/v1/uploads/{upload_id}",
                    "include-method": "DELETE",
                    "parameters": {"path.upload_id": draw("doomed-uploads")},
                },
            ],
        }
    )


def _schema(world: World, token: str | None, max_examples: int) -> Any:
    # FastAPI warns while it builds the document (two operations of one id): under the
    # suite's warnings-as-errors the server answers 500 instead. The first test below keeps
    # that defect in sight; this lets the fuzzer look for every other one meanwhile.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
        schema = schemathesis.openapi.from_url(
            f"{world.served.url}/openapi.json", config=_config(world, token, max_examples)
        )
    # ``{path}`` is a ``{path:path}`` route: slashes are its point, but OpenAPI cannot say
    # so and schemathesis keeps generated path parameters to one segment unless an example
    # has a slash. The document gives none, so one is added here; nothing is taken away.
    for operation in schema.raw_schema["paths"].get(PLAY, {}).values():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] == "path":
                parameter.setdefault("examples", {"master": {"value": "stream/master.m3u8"}})
    return schema


@pytest.fixture(scope="module")
def as_admin(world: World) -> Any:
    return _schema(world, world.admin, ADMIN_EXAMPLES)


@pytest.fixture(scope="module")
def as_uploader(world: World) -> Any:
    return _schema(world, world.uploader, UPLOADER_EXAMPLES)


@pytest.fixture(scope="module", params=["no key", "a revoked key", "a wrong secret", "garbage"])
def as_nobody(request: pytest.FixtureRequest, world: World) -> Any:
    api = world.served.api
    if request.param == "a revoked key":
        record, token = api.keys.create("revoked", admin=True)
        api.keys.revoke(record.key_id)
    elif request.param == "a wrong secret":
        token = world.admin[:-4] + ("AAAA" if not world.admin.endswith("AAAA") else "BBBB")
    else:
        token = {"no key": None, "garbage": "vk_nonsense"}[request.param]
    return _schema(world, token, NOBODY_EXAMPLES)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy schemas rename the test per operation through the item's
    ``_nodeid``, which pytest 9.2 no longer has (it keeps ``_id``): without it they fail
    before the first request. Giving them one changes nothing pytest reads."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def test_the_openapi_document_is_served_and_names_each_operation_once(world: World) -> None:
    """Under the suite's warnings-as-errors too (FastAPI warns of what is wrong with it)."""
    reply = httpx.get(f"{world.served.url}/openapi.json", timeout=30)
    assert reply.status_code == 200, reply.text
    ids = [
        (op["operationId"], method.upper(), path)
        for path, operations in reply.json()["paths"].items()
        for method, op in operations.items()
    ]
    names = [name for name, _, _ in ids]
    assert len(set(names)) == len(names), [i for i in ids if names.count(i[0]) > 1]


def _uploaders(body: Any) -> Iterator[str]:
    """Every ``uploaderId`` in a JSON body."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "uploaderId":
                yield str(value)
            yield from _uploaders(value)
    elif isinstance(body, list):
        for item in body:
            yield from _uploaders(item)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@FUZZ
@schemathesis.pytest.from_fixture("as_admin").parametrize()
def test_as_an_admin(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@FUZZ
@schemathesis.pytest.from_fixture("as_uploader").parametrize()
def test_as_an_uploader(case: Any) -> None:
    response = case.call_and_validate(checks=CHECKS)
    label = f"{case.method} {case.formatted_path}"
    if case.path.startswith("/v1/dlq") and response.status_code < 400:
        pytest.fail(
            f"{label}: an uploader's key passed an admin-only route: {response.status_code}"
        )
    if "json" in (response.headers.get("content-type") or [""])[0]:
        others = set(_uploaders(_json(response))) - {"alice"}
        assert not others, f"{label} showed alice what is {others}'s: {response.text[:500]}"


@FUZZ
@schemathesis.pytest.from_fixture("as_nobody").parametrize()
def test_without_a_live_key(case: Any) -> None:
    response = case.call_and_validate(checks=CHECKS)
    security = case.operation.definition.raw.get("security") or []
    anyone = {} in security  # OpenAPI's empty requirement: the route answers without a key
    if security and not anyone and response.status_code < 400:
        pytest.fail(
            f"{case.method} {case.formatted_path} answered {response.status_code} without a"
            f" live key: {response.text[:300]}"
        )
