"""Queue message bodies are untrusted JSON."""

from __future__ import annotations

import json
from typing import Any

from ..domain.errors import InvalidEvent


def decode(body: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidEvent("the message is not JSON") from exc
