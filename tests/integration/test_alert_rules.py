"""The Prometheus alert rules and the Grafana dashboard in deploy/.

promtool checks the rules and runs their unit tests (alerts.test.yml); the
dashboard must parse, its queries must be valid PromQL, and both may only use
metrics that vodkit exports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RULES = Path("deploy/prometheus/alerts.yml")
RULE_TESTS = Path("deploy/prometheus/alerts.test.yml")
DASHBOARD = Path("deploy/grafana/vodkit.json")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

COUNTERS = {
    "vodkit_uploads_accepted_total",
    "vodkit_processing_started_total",
    "vodkit_processed_assets_total",
    "vodkit_failed_assets_total",
    "vodkit_asset_failures_total",
    "vodkit_completed_jobs_total",
    "vodkit_failed_jobs_total",
    "vodkit_webhook_deliveries_total",
    "vodkit_http_requests_total",
    "vodkit_chunk_runs_total",
}
HISTOGRAMS = {
    "vodkit_job_processing_seconds",
    "vodkit_transcode_realtime_factor",
    "vodkit_http_request_duration_seconds",
}
GAUGES = {
    "vodkit_queue_depth",
    "vodkit_dead_letters",
    "vodkit_queue_oldest_message_age_seconds",
    "vodkit_assets",
    "vodkit_worker_last_seen_timestamp_seconds",
}
EXPORTED = COUNTERS | HISTOGRAMS | GAUGES
HISTOGRAM_SERIES = {
    f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")
}
METRIC = re.compile(r"vodkit_[a-z_]+")
# Grafana's range variables, for turning a panel query into plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if IN_CI:
            pytest.fail("promtool not installed (CI=true): apt-get install prometheus")
        pytest.skip("promtool not installed: apt-get install prometheus")
    return path


def run_promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((ROOT / RULES).read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / DASHBOARD).read_text())
    return loaded


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard_queries() -> list[str]:
    return [
        target["expr"]
        for panel in panels(dashboard()["panels"])
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def unknown_metrics(text: str) -> set[str]:
    return {name for name in METRIC.findall(text) if name not in EXPORTED | HISTOGRAM_SERIES}


def test_promtool_checks_the_rules(promtool: str) -> None:
    result = run_promtool(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_unit_tests_pass(promtool: str) -> None:
    result = run_promtool(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = [
        case
        for test in yaml.safe_load((ROOT / RULE_TESTS).read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    for name in {rule["alert"] for rule in rules()}:
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case.get("exp_alerts") for case in mine), f"{name} is never tested firing"
        assert any(not case.get("exp_alerts") for case in mine), f"{name} is never tested quiet"


def test_every_alert_says_what_happened_and_what_to_do() -> None:
    for rule in rules():
        annotations = rule.get("annotations", {})
        assert annotations.get("summary"), rule["alert"]
        assert annotations.get("description"), rule["alert"]
        assert rule.get("labels", {}).get("severity"), rule["alert"]


def test_the_rules_use_only_exported_metrics() -> None:
    text = (ROOT / RULES).read_text()
    assert METRIC.search(text)
    assert unknown_metrics(text) == set()


def test_the_dashboard_uses_only_exported_metrics() -> None:
    queries = dashboard_queries()
    assert queries
    for query in queries:
        assert METRIC.search(query), query
        assert unknown_metrics(query) == set(), query


def test_the_dashboard_is_keyed_and_queries_the_chosen_datasource() -> None:
    board = dashboard()
    assert board["uid"] == "vodkit"
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    for panel in panels(board["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    queries = []
    for query in dashboard_queries():
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        queries.append(query)
    recording = [{"record": f"vodkit:panel_{i}", "expr": q} for i, q in enumerate(queries)]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recording}]}))
    result = run_promtool(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_names_the_rules_use_are_the_names_vodkit_exports() -> None:
    """The list above is the exporter's own naming of every metric vodkit defines."""
    from vodkit.adapters.metrics.base import METRICS
    from vodkit.adapters.metrics.prometheus import exported_name

    exported = {
        exported_name(name, spec) + ("_total" if spec.kind == "counter" else "")
        for name, spec in METRICS.items()
    }
    assert exported == EXPORTED
