"""One view of an asset (``domain.view``): the API's JSON, its OpenAPI schema, the webhooks'
payload and the CLI's ``--json`` all derive from it, so they agree field for field."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes import HD
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.webhooks.memory import MemoryWebhookSender, MemoryWebhookStore
from vodkit.domain.asset import Asset, AssetError, AssetStatus
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.outbox import event_for
from vodkit.domain.per_title import fallback
from vodkit.domain.plan import MEDIACONVERT
from vodkit.domain.view import AssetView
from vodkit.entrypoints.http.schemas import AssetOut, Rendition
from vodkit.services.webhooks import WebhookService

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LINKS = {"hls": "https://cdn.example/a1/hls/main.m3u8", "poster": "https://cdn.example/a1/p.jpg"}


def an_asset(status: AssetStatus = AssetStatus.COMPLETED) -> Asset:
    new = Asset.new(asset_id="a1", uploader_id="alice", source_key="uploads/alice/x.mp4",
                    source_bucket="b", source_version="v", filename="x.mp4", file_size=5,
                    now=NOW)  # fmt: skip
    plan = fallback(plan_transcode(HD, load_presets()), "no sample encoder")
    return replace(
        new,
        status=status,
        duration=12.5,
        renditions=tuple(plan.summary()),
        outputs={"hls": "a1/hls/main.m3u8"},
        errors=(AssetError("NotMedia", "not a video"),) if status is AssetStatus.FAILED else (),
    )


def webhook_data(asset: Asset) -> dict[str, Any]:
    service = WebhookService(
        MemoryWebhookStore(), MemoryCatalog(), MemoryWebhookSender([]), MemoryMetrics(),
        links=lambda shown: dict(LINKS),
    )  # fmt: skip
    hook = service.subscribe("alice", "https://hooks.example/in", ["asset.completed"])
    event = event_for(None, asset)
    assert event is not None
    data: dict[str, Any] = json.loads(service.render(event, hook))["data"]
    return data


def api_json(asset: Asset) -> dict[str, Any]:
    return AssetOut.of(AssetView(asset), dict(LINKS)).model_dump(mode="json")


def without_nones(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize("status", [AssetStatus.COMPLETED, AssetStatus.FAILED])
def test_a_webhook_tells_of_an_asset_what_the_api_shows(status: AssetStatus) -> None:
    asset = an_asset(status)
    sent, shown = webhook_data(asset), api_json(asset)
    assert set(sent) == set(shown)  # duration, progress and the errors' kind included
    plain = set(shown) - {"renditions", "playback"}  # the API's models fill in their Nones
    assert {k: sent[k] for k in plain} == {k: shown[k] for k in plain}
    assert [without_nones(r) for r in sent["renditions"]] == [
        without_nones(r) for r in shown["renditions"]
    ]
    assert sent["playback"] == without_nones(shown["playback"]) == LINKS
    assert "sourceKey" not in sent and "outputs" not in sent  # the server's keys stay in


def test_the_openapi_schema_lists_every_field_of_the_view() -> None:
    public = AssetView(an_asset(AssetStatus.FAILED), playback=LINKS).public()
    assert set(AssetOut.model_json_schema()["properties"]) == set(public)
    cli = AssetView(an_asset(), locations={"hls": "/srv/a1/hls/main.m3u8"}).to_dict()
    assert set(public) < set(cli) and set(cli) - set(public) == {"sourceKey", "outputs", "jobs"}


@pytest.mark.parametrize("encoder", ["x264", MEDIACONVERT])
def test_the_openapi_schema_lists_every_field_of_a_rendition(encoder: str) -> None:
    plan = plan_transcode(HD, load_presets(), PlanningRules(encoder=encoder))
    for rows in (plan.summary(), fallback(plan, "x").summary()):
        assert set().union(*rows) <= set(Rendition.model_json_schema()["properties"])


def test_a_field_the_view_gains_is_refused_until_the_api_declares_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = AssetView.public
    monkeypatch.setattr(AssetView, "public", lambda self: {**public(self), "colour": "red"})
    with pytest.raises(ValidationError, match="colour"):
        AssetOut.of(AssetView(an_asset()))


def test_the_clis_view_of_a_job_carries_what_assets_show_prints() -> None:
    from vodkit.domain.asset import Job, JobState
    from vodkit.entrypoints.cli.common import _job_line

    job = Job(
        "j1", JobState.PROGRESSING, 40.0, eta_seconds=12.0, phase="encoding", runner_id="mc-7",
        restarts=2,
    )  # fmt: skip
    shown = AssetView(an_asset(AssetStatus.PROCESSING), jobs=(job,)).to_dict()["jobs"][0]
    assert shown == {
        "jobId": "j1", "state": "PROGRESSING", "percent": 40.0, "etaSeconds": 12.0,
        "phase": "encoding", "runnerId": "mc-7", "restarts": 2,
    }  # fmt: skip
    line = _job_line(shown)
    assert "40%" in line and "runner mc-7" in line and "restarted 2x" in line and "ETA" in line
    assert "encoding" in line


def test_progress_carries_its_phase_through_the_view_the_api_and_the_clis_bar() -> None:
    from vodkit.domain.asset import Job, JobState
    from vodkit.entrypoints.cli.common import bar_description
    from vodkit.services.follow import Progress as Followed

    jobs = (
        Job("j1", JobState.PROGRESSING, 50.0, phase="analysing"),
        Job("j2", JobState.PROGRESSING, 30.0, eta_seconds=9.0, phase="encoding"),
    )
    view = AssetView(an_asset(AssetStatus.PROCESSING), jobs=jobs)
    # the slowest job's phase: the percent is the phases' own
    assert view.progress == {"percent": 40.0, "etaSeconds": 9.0, "phase": "analysing"}
    assert AssetOut.of(view).model_dump()["progress"]["phase"] == "analysing"
    assert bar_description(Followed("PROCESSING", 40.0, 9.0, "analysing")) == "analysing"
    assert bar_description(Followed("PENDING")) == "pending"


def test_an_ended_job_is_shown_without_a_phase_or_time_left() -> None:
    from vodkit.entrypoints.cli.common import _job_line

    line = _job_line({"jobId": "j1", "state": "COMPLETE", "percent": 100.0,
                      "phase": "packaging", "etaSeconds": 0.0})  # fmt: skip
    assert line == "j1  COMPLETE  100%"
