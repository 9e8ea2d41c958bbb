"""Presets from an SSM parameter, as the original design keeps them."""

from __future__ import annotations

import json
from typing import Any

from ...domain.errors import AccessDenied, PresetsError, TransientError, VodkitError
from ...domain.presets import Presets, parse_presets
from ..aws import aws_errors


def load_presets_from_ssm(client: Any, name: str) -> Presets:
    try:
        with aws_errors():
            text = client.get_parameter(Name=name)["Parameter"]["Value"]
    except (TransientError, AccessDenied):
        raise
    except VodkitError as exc:
        raise PresetsError(f"cannot read the presets parameter {name}: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetsError(f"the presets parameter {name} is not valid JSON: {exc.msg}") from exc
    try:
        return parse_presets(document)
    except PresetsError as exc:
        raise PresetsError(f"presets parameter {name}: {exc}") from exc
