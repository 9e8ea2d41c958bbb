"""Presets from a JSON file: the built-in defaults, or the operator's own."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ...domain.errors import PresetsError
from ...domain.presets import Presets, parse_presets


def default_presets_path() -> Path:
    return Path(str(resources.files("vodkit") / "presets" / "default.json"))


def load_presets(path: Path | None = None) -> Presets:
    """The presets in ``path`` (default: the built-in ones), refused with the bad field."""
    path = path or default_presets_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PresetsError(f"cannot read presets file {path}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetsError(
            f"presets file {path} is not valid JSON (line {exc.lineno}): {exc.msg}"
        ) from exc
    try:
        return parse_presets(document)
    except PresetsError as exc:
        raise PresetsError(f"presets file {path}: {exc}") from exc
