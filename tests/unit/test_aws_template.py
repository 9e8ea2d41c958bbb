"""infra/aws/template.yaml: lint-clean, and wired the way the code expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.aws_stack import TEMPLATE, template
from vodkit.adapters.presets.file import default_presets_path
from vodkit.adapters.transcoder.pyav_text import MEMORY, TIMEOUT
from vodkit.footprints.aws.package import code_directories
from vodkit.services.text_conversion import MAX_SOURCE_BYTES


def test_cfn_lint_reports_nothing() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(TEMPLATE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_the_presets_parameter_holds_the_built_in_presets() -> None:
    value = template()["Resources"]["MediaConvertPresetsParameter"]["Properties"]["Value"]
    assert json.loads(value) == json.loads(default_presets_path().read_text())


def test_rules_route_to_queues_with_dead_letters() -> None:
    resources = template()["Resources"]
    rules = {
        r["Properties"]["EventPattern"]["source"][0]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule"
    }
    assert set(rules) == {"aws.s3", "aws.mediaconvert"}
    statuses = rules["aws.mediaconvert"]["EventPattern"]["detail"]["status"]
    assert {"PROGRESSING", "COMPLETE", "ERROR"} <= set(statuses)
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert "Fn::GetAtt" in target["Arn"] and target["Arn"]["Fn::GetAtt"][1] == "Arn"
        assert "DeadLetterConfig" in target
    kms = resources["MediaKMSKey"]["Properties"]["KeyPolicy"]["Statement"]
    (events,) = [s for s in kms if s["Principal"].get("Service") == "events.amazonaws.com"]
    assert set(events["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert resources["MediaAssetsTable"]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_AND_OLD_IMAGES"
    }


def test_functions_run_vodkit_from_a_local_directory() -> None:
    (code,) = code_directories(template())
    functions = [
        r for r in template()["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    for fn in functions:
        module, _, attribute = fn["Properties"]["Handler"].partition(".")
        source = (Path(TEMPLATE).parent / code / f"{module}.py").read_text()
        assert attribute in source
        assert fn["Properties"]["Runtime"] in ("python3.12", "python3.13")


def test_mediaconvert_reads_the_uploads_and_only_the_captions_of_the_outputs() -> None:
    role = template()["Resources"]["MediaConvertRole"]["Properties"]
    (policy,) = role["Policies"]
    reads = [
        s["Resource"]["Fn::Sub"]
        for s in policy["PolicyDocument"]["Statement"]
        if "s3:GetObject" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    # a sidecar caption's WebVTT, which a job's caption selector reads (FileSourceSettings)
    assert reads == ["${UploadsBucket.Arn}/uploads/*", "${OutputsBucket.Arn}/*/captions/*"]


def _ingest() -> tuple[dict[str, Any], dict[str, Any]]:
    resources = template()["Resources"]
    return resources["IngestOrchestratorFunction"]["Properties"], resources


def test_the_ingest_may_write_only_captions_to_the_outputs() -> None:
    _, resources = _ingest()
    (policy,) = resources["IngestFunctionRole"]["Properties"]["Policies"]
    writes = [
        s["Resource"]["Fn::Sub"]
        for s in policy["PolicyDocument"]["Statement"]
        if "s3:PutObject" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    # an ASS/SSA track as WebVTT, where the job's caption selector reads it
    assert writes == ["${OutputsBucket.Arn}/*/captions/*"]


def test_the_ingest_has_time_room_and_disk_to_read_a_source_whole_for_its_text() -> None:
    function, resources = _ingest()
    assert function["Timeout"] == 900  # Lambda's most
    # the largest source read whole for its text fits /tmp, and the reader's memory fits
    assert function["EphemeralStorage"]["Size"] * 1024**2 > MAX_SOURCE_BYTES
    assert function["MemorySize"] * 1024**2 >= 2 * MEMORY
    # a batch runs in one invocation: one upload each, so its time is that upload's
    (mapping,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["FunctionName"] == {"Ref": "IngestOrchestratorFunction"}
    ]
    assert mapping["BatchSize"] == 1
    # downloading MAX_SOURCE_BYTES at a slow 50 MB/s, then reading its text, then the job
    assert function["Timeout"] > MAX_SOURCE_BYTES / 50e6 + TIMEOUT + 60
    queue = resources["ProcessingQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]  # as Lambda advises
