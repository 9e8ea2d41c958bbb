"""deploy/: the compose file's settings are vodkit's, and RabbitMQ outwaits a transcode."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vodkit.footprints.cluster import ClusterSettings

DEPLOY = Path(__file__).parents[2] / "deploy"


def _vodkit_services() -> dict[str, dict[str, str]]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return {
        name: service["environment"]
        for name, service in compose["services"].items()
        if service.get("image") == "vodkit:local"
    }


def test_every_vodkit_container_gets_settings_the_cluster_footprint_accepts() -> None:
    services = _vodkit_services()
    assert {"migrate", "api", "ingest-worker", "transcode-worker"} <= set(services)
    for name, environment in services.items():
        ours = {
            key.removeprefix("VODKIT_").lower(): re.sub(r"\$\{\w+:-(.*)\}", r"\1", str(value))
            for key, value in environment.items()
            if key.startswith("VODKIT_")
        }
        settings = ClusterSettings(**ours)  # extra="forbid": a misspelt name fails here
        assert settings.backend == "cluster", name


def test_the_broker_outwaits_the_longest_transcode() -> None:
    conf = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    (timeout_ms,) = re.findall(r"^consumer_timeout\s*=\s*(\d+)$", conf, re.MULTILINE)
    assert int(timeout_ms) / 1000 > ClusterSettings().transcode_timeout


def _compose_client() -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return found.returncode == 0


@pytest.mark.skipif(not _compose_client(), reason="no Docker Compose v2 client on this machine")
def test_docker_compose_accepts_the_file() -> None:
    checked = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
