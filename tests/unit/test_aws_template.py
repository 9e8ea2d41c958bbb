"""infra/aws/template.yaml: lint-clean, and wired the way the code expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.aws_stack import TEMPLATE, template
from vodkit.adapters.presets.file import default_presets_path
from vodkit.footprints.aws.package import code_directories


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
