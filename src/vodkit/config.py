"""Settings: environment variables with the ``VODKIT_`` prefix, over a TOML file.

The file is ``$VODKIT_CONFIG`` if set, else ``./vodkit.toml`` if present. Its
keys are the settings' names (``data_dir = "/srv/vodkit"``). Precedence:
explicit arguments, then the environment, then the file, then the defaults.
``Settings`` holds what every footprint shares; a footprint that needs more
(AWS: the stack's resources) extends it in its own package.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .domain.errors import ConfigError
from .domain.ladder import PlanningRules
from .domain.media import MediaLimits
from .domain.plan import X264
from .domain.tracks import TrackLimits
from .domain.webhooks import BACKOFF

# the defaults, written once in the domain
RULES, LIMITS, TRACKS = PlanningRules(), MediaLimits(), TrackLimits()
MB = 1024 * 1024


class _Sources(BaseSettings):
    """Arguments, then ``VODKIT_*`` variables, then the TOML file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if (path := config_file()) is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


class Selection(_Sources):
    """Which footprint the settings are for (and how much to log), read before the rest."""

    model_config = SettingsConfigDict(env_prefix="VODKIT_", extra="ignore")

    backend: str = Field("embedded", description="the footprint (footprints.FOOTPRINTS)")
    log_level: str = "INFO"


class Settings(_Sources):
    model_config = SettingsConfigDict(env_prefix="VODKIT_", extra="forbid")
    ENCODER: ClassVar[str] = X264  # who encodes QVBR plans: FFmpeg's x264 (capped CRF)

    backend: str = Field("embedded", description="the footprint (footprints.FOOTPRINTS)")
    data_dir: Path = Field(Path("vodkit-data"), description="uploads, outputs and SQLite files")
    presets: Path | None = Field(None, description="a presets JSON file; default: the built-in")
    uploads_bucket: str = Field("vodkit-uploads", description="bucket name in events and ids")
    outputs_bucket: str = Field("vodkit-outputs", description="renditions bucket")

    ffmpeg: str = Field("bundled", description="'bundled', 'system' (PATH) or a path to ffmpeg")
    probe_timeout: float = Field(30.0, gt=0)
    # the defaults of the rules and limits are the domain's (PlanningRules, MediaLimits)
    max_fps: float = Field(
        RULES.max_fps,
        gt=0,
        description="renditions keep every source frame up to this rate;"
        " a faster source is divided exactly (120 -> 60)",
    )
    gop_seconds: int = Field(
        RULES.gop_seconds, ge=1, le=10, description="keyframe interval on every rung"
    )
    sprite_interval: int = Field(
        RULES.sprite_interval, ge=1, le=600, description="seconds between scrub tiles"
    )

    max_audio_tracks: int = Field(
        TRACKS.max_audio_tracks, ge=0, le=64, description="audio tracks kept; the rest skipped"
    )
    max_text_tracks: int = Field(
        TRACKS.max_text_tracks, ge=0, le=64, description="text tracks kept; the rest skipped"
    )

    max_file_size_mb: int = Field(LIMITS.max_file_size // MB, gt=0)
    max_width: int = Field(LIMITS.max_width, gt=0)
    max_height: int = Field(LIMITS.max_height, gt=0)
    max_pixels: int = Field(LIMITS.max_pixels, gt=0)
    max_source_fps: float = Field(LIMITS.max_fps, gt=0)
    max_duration: float = Field(LIMITS.max_duration, gt=0, description="seconds")

    metrics_port: int | None = Field(None, description="serve Prometheus /metrics on this port")
    public_url: str = Field("", description="the API's URL as clients reach it; default: asked")
    playback_ttl: float = Field(6 * 3600.0, gt=0, description="playback URLs expire after, s")
    upload_expiry: float = Field(24 * 3600.0, gt=0, description="unfinished uploads expire, s")
    max_event_streams: int = Field(
        10, ge=1, le=10_000, description="server-sent event streams one key may hold open"
    )
    webhook_allow_private: bool = Field(
        False, description="let webhooks reach loopback and private addresses (tests)"
    )
    webhook_timeout: float = Field(10.0, gt=0, le=60, description="a delivery's time limit, s")
    webhook_backoff: tuple[float, ...] = Field(
        BACKOFF,
        min_length=1,
        description="seconds before each retry of a delivery (the last repeats, for 24 h)",
    )
    log_level: str = "INFO"

    @property
    def rules(self) -> PlanningRules:
        return PlanningRules(
            max_fps=self.max_fps,
            gop_seconds=self.gop_seconds,
            sprite_interval=self.sprite_interval,
            encoder=self.ENCODER,
            track_limits=replace(
                TRACKS,
                max_audio_tracks=self.max_audio_tracks,
                max_text_tracks=self.max_text_tracks,
            ),
        )

    @property
    def limits(self) -> MediaLimits:
        return MediaLimits(
            max_file_size=self.max_file_size_mb * MB,
            max_width=self.max_width,
            max_height=self.max_height,
            max_pixels=self.max_pixels,
            max_fps=self.max_source_fps,
            max_duration=self.max_duration,
        )


def config_file() -> Path | None:
    explicit = os.environ.get("VODKIT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"VODKIT_CONFIG names {path}, which is not a file")
        return path
    default = Path("vodkit.toml")
    return default if default.is_file() else None


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S] = Settings, **overrides: object) -> S:  # type: ignore[assignment]
    """``cls`` from the arguments, the environment and the file, or a ConfigError that
    names each bad setting."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
