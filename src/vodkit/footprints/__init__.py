"""The footprints: which technologies vodkit runs on, chosen by ``VODKIT_BACKEND``.

Each is a module with ``SETTINGS`` (its settings class) and ``bootstrap(settings)``
(its wiring); ``load`` imports only the chosen one. A footprint whose extra is
not installed says which to install, in one line.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..config import Selection, load_settings
from ..domain.errors import ConfigError
from .base import App

FOOTPRINTS = {  # backend -> (module, the extra it needs)
    "embedded": ("vodkit.footprints.embedded", ""),
    "aws": ("vodkit.footprints.aws", "aws"),
}


def module(backend: str) -> ModuleType:
    name, extra = FOOTPRINTS[backend]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not extra or missing in ("", "vodkit"):
            raise
        raise ConfigError(
            f"the {backend} footprint needs {missing}, which is not installed: "
            f"pip install 'vodkit[{extra}]'"
        ) from exc


def load(**overrides: Any) -> App:
    """The app of the footprint the settings choose (arguments over the environment)."""
    backend = overrides.get("backend") or load_settings(Selection).backend
    footprint = module(backend)
    app: App = footprint.bootstrap(load_settings(footprint.SETTINGS, **overrides))
    return app


__all__ = ["App", "load", "module"]
