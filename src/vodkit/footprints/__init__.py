"""The footprints: which technologies vodkit runs on, chosen by ``VODKIT_BACKEND``.

Each is a module with ``SETTINGS`` (its settings class), ``bootstrap(settings)``
(its wiring), ``presets(settings)`` and, if it serves the HTTP API, ``api(settings)``;
``load`` imports only the chosen one. A footprint whose extra is
not installed says which to install, in one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from ..config import Selection, load_settings
from ..domain.errors import ConfigError
from ..domain.presets import Presets
from .base import Api, App

FOOTPRINTS = {  # backend -> (module, the extra it needs)
    "embedded": ("vodkit.footprints.embedded", ""),
    "aws": ("vodkit.footprints.aws", "aws"),
    "cluster": ("vodkit.footprints.cluster", "cluster"),
}


@contextmanager
def needs_extra(extra: str, what: str) -> Iterator[None]:
    """The imports inside come with ``extra``: one that is missing says so, in one line."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in ("", "vodkit"):
            raise  # a bug, not an install
        raise ConfigError(
            f"{what} needs {missing}, which is not installed: pip install 'vodkit[{extra}]'"
        ) from exc


def module(backend: str) -> ModuleType:
    if backend not in FOOTPRINTS:
        raise ConfigError(f"VODKIT_BACKEND={backend!r}: choose from {', '.join(FOOTPRINTS)}")
    name, extra = FOOTPRINTS[backend]
    if not extra:
        return importlib.import_module(name)
    with needs_extra(extra, f"the {backend} footprint"):
        return importlib.import_module(name)


def load(**overrides: Any) -> App:
    """The app of the footprint the settings choose (arguments over the environment)."""
    backend = overrides.get("backend") or load_settings(Selection).backend
    footprint = module(backend)
    app: App = footprint.bootstrap(load_settings(footprint.SETTINGS, **overrides))
    return app


def load_presets(**overrides: Any) -> Presets:
    """The presets in force on the footprint the settings choose, without wiring it."""
    footprint = module(overrides.get("backend") or load_settings(Selection).backend)
    presets: Presets = footprint.presets(load_settings(footprint.SETTINGS, **overrides))
    return presets


def load_api(**overrides: Any) -> Api:
    """What the HTTP API serves, on the footprint the settings choose (if it serves one)."""
    backend = overrides.get("backend") or load_settings(Selection).backend
    footprint = module(backend)
    if not hasattr(footprint, "api"):
        raise ConfigError(f"the {backend} footprint has no HTTP API; the embedded one has")
    api: Api = footprint.api(load_settings(footprint.SETTINGS, **overrides))
    return api


def upgrade_database(**overrides: Any) -> int | None:
    """Apply the catalog's pending migrations: how many, or None where they apply themselves."""
    footprint = module(overrides.get("backend") or load_settings(Selection).backend)
    if not hasattr(footprint, "upgrade"):
        return None
    applied: int = footprint.upgrade(load_settings(footprint.SETTINGS, **overrides))
    return applied


__all__ = ["Api", "App", "load", "load_api", "module", "needs_extra", "upgrade_database"]
