"""`vodkit aws package` and `vodkit aws deploy`: the Lambda artifact and the stack.

The artifact is the handler directory that the template's ``Code`` names, plus
vodkit and its runtime dependencies for Lambda's platform, zipped
deterministically (sorted entries, fixed times and modes), so the same
sources give the same bytes and the same S3 key (its SHA-256). The packaged
template is the template with each ``Code: <dir>`` replaced by that S3
location: what ``aws cloudformation package`` would produce.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from ...adapters.aws import aws_call, client
from ...domain.errors import ConfigError

PACKAGE = Path(__file__).resolve().parents[2]  # vodkit itself, wherever it is installed
TEMPLATE = PACKAGE.parents[1] / "infra" / "aws" / "template.yaml"  # in a source checkout
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
# vodkit's dependencies that the functions never import: the CLI's, the local worker's,
# and FFmpeg's (jobs run in MediaConvert). boto3 is in Lambda's runtime already.
NOT_IN_LAMBDA = frozenset({"imageio-ffmpeg", "typer", "watchfiles", "boto3"})
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub...) as their long form."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    return loaded


def code_directories(template: dict[str, Any]) -> set[str]:
    return {
        r["Properties"]["Code"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and isinstance(r["Properties"].get("Code"), str)
    }


def _pip_install_for_lambda(target: Path, requirements: list[str]) -> None:
    args = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--target", str(target), "--platform", LAMBDA_PLATFORM,
            "--implementation", "cp", "--python-version", LAMBDA_PYTHON,
            "--only-binary=:all:"]  # fmt: skip
    result = subprocess.run([*args, *requirements], capture_output=True, text=True, check=False)
    if result.returncode:
        raise ConfigError(
            f"pip could not install {' '.join(requirements)}: {result.stderr[-2000:]}"
        )


def runtime_dependencies() -> list[str]:
    """vodkit's declared dependencies that the functions import (not its extras)."""
    from importlib.metadata import requires

    wanted = []
    for requirement in requires("vodkit") or []:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
        if name.lower().replace("_", "-") not in NOT_IN_LAMBDA:
            wanted.append(requirement)
    return sorted(wanted)


def _template(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(
            f"no template at {path}: run from a vodkit source checkout or pass --template"
        )
    return path


def build_artifact(out: Path, *, dependencies: bool = True, template: Path = TEMPLATE) -> Path:
    """Zip the handler directory with vodkit (and its dependencies) into ``out``."""
    (code,) = code_directories(load_template(_template(template)))
    with tempfile.TemporaryDirectory(prefix="vodkit-package-") as tmp:
        build = Path(tmp) / "build"
        shutil.copytree(template.parent / code, build)
        shutil.copytree(  # pure Python: the same on any platform
            PACKAGE, build / "vodkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        if dependencies:
            _pip_install_for_lambda(build, runtime_dependencies())
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(build / "bin", ignore_errors=True)  # console scripts: useless in Lambda
        files = sorted(
            (p for p in build.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
            key=lambda p: p.relative_to(build).as_posix(),
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in files:
                info = zipfile.ZipInfo(path.relative_to(build).as_posix(), ZIP_TIME)
                info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def packaged_template(bucket: str, key: str, template: Path = TEMPLATE) -> dict[str, Any]:
    document = load_template(template)
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": key}
    return document


def package(
    out_dir: Path, bucket: str, *, dependencies: bool = True, template: Path = TEMPLATE
) -> tuple[Path, Path, str]:
    """Build the artifact and the packaged template; return their paths and the S3 key."""
    artifact = build_artifact(out_dir / "lambda.zip", dependencies=dependencies, template=template)
    key = f"vodkit/lambda-{sha256(artifact)[:32]}.zip"
    packaged = out_dir / "template.packaged.json"
    document = packaged_template(bucket, key, template)
    packaged.write_text(json.dumps(document, indent=1, sort_keys=True))
    return artifact, packaged, key


@aws_call
def deploy(
    stack: str,
    bucket: str,
    out_dir: Path,
    *,
    parameters: dict[str, str] | None = None,
    dependencies: bool = True,
    template: Path = TEMPLATE,
    session: Any = None,
) -> dict[str, str]:
    """Package, upload, create or update the stack, wait; return the stack's outputs.

    On update, a parameter not given keeps its deployed value (not the template's default).
    The template goes through S3 too: TemplateBody is capped at 51,200 bytes.
    """
    import boto3
    from botocore.exceptions import ClientError, WaiterError

    given = dict(parameters or {})
    declared = set(load_template(_template(template)).get("Parameters", {}))
    unknown = set(given) - declared
    if unknown:  # before a minute of packaging, not after
        raise ConfigError(f"the template has no parameter {', '.join(sorted(unknown))}")
    session = session or boto3.session.Session()
    artifact, packaged, key = package(out_dir, bucket, dependencies=dependencies, template=template)
    s3 = session.client("s3")
    s3.upload_file(str(artifact), bucket, key)
    template_key = f"vodkit/template-{sha256(packaged)[:32]}.json"
    s3.upload_file(str(packaged), bucket, template_key)
    cfn = session.client("cloudformation")
    deployed = _deployed_parameters(cfn, stack)
    # what the stack has, for the parameters the template still declares
    kept = {k: v for k, v in (deployed or {}).items() if k in declared}
    request: dict[str, Any] = {
        "StackName": stack,
        "TemplateURL": f"https://{bucket}.s3.{s3.meta.region_name}.amazonaws.com/{template_key}",
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        # the deployed values, spelled out (the template has no NoEcho parameter to hide)
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in {**kept, **given}.items()
        ],
    }
    try:
        if deployed is None:
            cfn.create_stack(**request)
            cfn.get_waiter("stack_create_complete").wait(StackName=stack)
        else:
            try:
                cfn.update_stack(**request)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
            else:
                cfn.get_waiter("stack_update_complete").wait(StackName=stack)
    except WaiterError as exc:
        raise ConfigError(f"stack {stack} did not deploy: {_failure(cfn, stack) or exc}") from exc
    return stack_outputs(cfn, stack)


def _deployed_parameters(cfn: Any, stack: str) -> dict[str, str] | None:
    """The deployed stack's parameters, or None if there is no such stack."""
    from botocore.exceptions import ClientError

    try:
        (described,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    if described["StackStatus"] == "ROLLBACK_COMPLETE":
        raise ConfigError(
            f"stack {stack} failed to create (ROLLBACK_COMPLETE): delete it, then deploy again"
        )
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}


def _failure(cfn: Any, stack: str) -> str:
    """The first reason CloudFormation gave for a failed resource, if any."""
    events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    for event in reversed(events):
        if str(event.get("ResourceStatus", "")).endswith("FAILED"):
            return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
    return ""


@aws_call
def stack_outputs(cfn: Any, stack: str) -> dict[str, str]:
    (described,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


# Stack outputs -> the VODKIT_* settings the CLI needs for VODKIT_BACKEND=aws.
OUTPUT_SETTINGS = {
    "UploadsBucketName": "VODKIT_UPLOADS_BUCKET",
    "OutputsBucketName": "VODKIT_OUTPUTS_BUCKET",
    "MediaAssetsTableName": "VODKIT_CATALOG_TABLE",
    "PresetsParameterName": "VODKIT_PRESETS_PARAMETER",
    "MediaConvertRoleArn": "VODKIT_MEDIACONVERT_ROLE",
    "ProcessingQueueUrl": "VODKIT_PROCESSING_QUEUE_URL",
    "ProcessingDLQUrl": "VODKIT_PROCESSING_DLQ_URL",
    "JobEventsQueueUrl": "VODKIT_JOB_EVENTS_QUEUE_URL",
    "JobEventsDLQUrl": "VODKIT_JOB_EVENTS_DLQ_URL",
}


def settings_env(outputs: dict[str, str], stack: str) -> dict[str, str]:
    env = {"VODKIT_BACKEND": "aws", "VODKIT_STACK_NAME": stack}
    env.update({var: outputs[name] for name, var in OUTPUT_SETTINGS.items() if name in outputs})
    return env


def cloudformation() -> Any:
    return client("cloudformation")
