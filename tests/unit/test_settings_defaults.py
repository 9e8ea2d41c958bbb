"""Every default of a rule or a limit is written once, in the domain; the settings read it."""

from __future__ import annotations

import ast
import inspect
import os

import pytest

from vodkit import config
from vodkit.config import Settings
from vodkit.domain.ladder import PlanningRules
from vodkit.domain.media import MediaLimits
from vodkit.domain.webhooks import BACKOFF

FROM_THE_DOMAIN = (
    "max_fps", "gop_seconds", "sprite_interval", "max_file_size_mb", "max_width", "max_height",
    "max_pixels", "max_source_fps", "max_duration", "webhook_backoff",
)  # fmt: skip


def test_the_settings_defaults_are_the_domains(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VODKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir("/")  # no vodkit.toml
    settings = Settings()
    assert settings.rules == PlanningRules()
    assert settings.limits == MediaLimits()
    assert settings.webhook_backoff == BACKOFF


@pytest.mark.parametrize("name", FROM_THE_DOMAIN)
def test_no_default_is_written_twice(name: str) -> None:
    """config.py names the domain's default rather than repeating its number."""
    tree = ast.parse(inspect.getsource(config.Settings))
    (field,) = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == name
    ]
    assert isinstance(field.value, ast.Call) and field.value.args
    default = field.value.args[0]
    assert not any(isinstance(n, ast.Constant) for n in ast.walk(default)), ast.unparse(default)
