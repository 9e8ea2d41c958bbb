import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.domain.errors import PresetsError
from vodkit.domain.presets import parse_presets


def default_document() -> dict[str, Any]:
    return json.loads(default_presets_path().read_text())


def test_defaults_reproduce_the_original_ladder() -> None:
    presets = load_presets(default_presets_path())
    hls = [(o.video.width, o.video.height, o.video.bitrate) for o in presets.hls.outputs]
    assert hls == [(1280, 720, 2_000_000), (854, 480, 1_000_000)]
    assert [(o.audio.bitrate, o.audio.sample_rate) for o in presets.hls.outputs if o.audio] == [
        (128_000, 48000),
        (96_000, 48000),
    ]
    dash = [(o.video.width, o.video.height, o.video.bitrate) for o in presets.dash.outputs]
    assert dash == hls
    (preview,) = presets.mp4.outputs
    assert (preview.video.width, preview.video.height, preview.video.bitrate) == (
        1280,
        720,
        1_500_000,
    )
    assert preview.audio is not None and preview.audio.bitrate == 128_000
    assert presets.hls.group.type == "HLS_GROUP"
    assert presets.dash.group.type == "DASH_ISO_GROUP"
    assert presets.mp4.group.type == "FILE_GROUP"


def test_the_original_ssm_parameter_is_accepted() -> None:
    document = default_document()
    document["presets"]["hls"]["outputGroup"]["segmentDuration"] = 10
    document["presets"]["dash"]["outputGroup"]["segmentLength"] = 30
    del document["presets"]["dash"]["outputs"][0]["audioSettings"]  # the original DASH had none
    assert parse_presets(document).segment_seconds == 10


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (
            ("hls", "outputs", 1, "videoSettings", "width"),
            855,
            "presets.hls.outputs[1].videoSettings.width",
        ),
        (
            ("hls", "outputs", 0, "videoSettings", "bitrate"),
            "2M",
            "presets.hls.outputs[0].videoSettings.bitrate",
        ),
        (
            ("dash", "outputs", 0, "videoSettings", "codec"),
            "VP9",
            "presets.dash.outputs[0].videoSettings.codec",
        ),
        (
            ("mp4", "outputs", 0, "audioSettings", "sampleRate"),
            8000,
            "presets.mp4.outputs[0].audioSettings.sampleRate",
        ),
        (("mp4", "outputGroup", "type"), "HLS_GROUP", "presets.mp4.outputGroup.type"),
        (("hls", "outputs"), [], "presets.hls.outputs"),
        (("hls", "outputGroup", "segmentDuration"), 0, "presets.hls.outputGroup.segmentDuration"),
        (("dash",), None, "presets.dash"),
    ],
)
def test_an_invalid_field_is_named(path: tuple[Any, ...], value: Any, named: str) -> None:
    document = copy.deepcopy(default_document())
    target = document["presets"]
    for part in path[:-1]:
        target = target[part]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(PresetsError) as info:
        parse_presets(document)
    assert named in str(info.value)


def test_unreadable_files_are_refused_with_their_path(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    with pytest.raises(PresetsError, match=r"p\.json is not valid JSON \(line 1\)"):
        load_presets(bad)
    with pytest.raises(PresetsError, match="cannot read"):
        load_presets(tmp_path / "missing.json")
    bad.write_text("[]")
    with pytest.raises(PresetsError, match="'presets' object"):
        load_presets(bad)


def test_segments_must_be_a_multiple_of_the_keyframe_interval(tmp_path: Path) -> None:
    from vodkit.config import load_settings

    document = default_document()
    document["presets"]["hls"]["outputGroup"]["segmentDuration"] = 5
    custom = tmp_path / "p.json"
    custom.write_text(json.dumps(document))

    def make_presets(settings):  # type: ignore[no-untyped-def]
        return load_presets(settings.presets).validate(settings.rules)

    with pytest.raises(PresetsError, match=r"segmentDuration: 5 s is not a multiple of the 2 s"):
        make_presets(load_settings(presets=custom))
    assert make_presets(load_settings(presets=custom, gop_seconds=1)).segment_seconds == 5


def test_presets_from_anywhere_are_checked_against_the_rules() -> None:
    """Whatever loaded them (a file, SSM), the orchestrator refuses presets that break a rule."""
    from tests.fakes import HD
    from vodkit.adapters.catalog.memory import MemoryCatalog
    from vodkit.adapters.events.memory import RecordingEventBus
    from vodkit.adapters.probe.memory import MemoryProber
    from vodkit.adapters.storage.memory import MemoryObjectStore
    from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
    from vodkit.domain.ladder import PlanningRules
    from vodkit.services.ingest import IngestOrchestrator

    document = default_document()
    document["presets"]["hls"]["outputGroup"]["segmentDuration"] = 5
    with pytest.raises(PresetsError, match="not a multiple of the 2 s keyframe interval"):
        IngestOrchestrator(
            uploads=MemoryObjectStore(),
            catalog=MemoryCatalog(),
            prober=MemoryProber({b"": HD}),
            submitter=MemoryJobSubmitter(),
            presets=parse_presets(document),
            bus=RecordingEventBus(),
            rules=PlanningRules(gop_seconds=2),
        )
