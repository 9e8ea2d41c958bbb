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
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from .domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "aws" / "template.yaml"
LAMBDA_PYTHON = "3.12"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
# What the functions import at run time (boto3 is in Lambda's runtime already).
RUNTIME_DEPENDENCIES = ("pydantic-settings>=2.3", "av>=14")
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


def _pip_target(target: Path, requirements: list[str], *, platform: bool) -> None:
    args = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--target", str(target)]  # fmt: skip
    if platform:
        args += ["--platform", LAMBDA_PLATFORM, "--implementation", "cp",
                 "--python-version", LAMBDA_PYTHON, "--only-binary=:all:"]  # fmt: skip
    result = subprocess.run([*args, *requirements], capture_output=True, text=True, check=False)
    if result.returncode:
        raise ConfigError(
            f"pip could not install {' '.join(requirements)}: {result.stderr[-2000:]}"
        )


def build_artifact(out: Path, *, dependencies: bool = True, template: Path = TEMPLATE) -> Path:
    """Zip the handler directory with vodkit (and its dependencies) into ``out``."""
    (code,) = code_directories(load_template(template))
    with tempfile.TemporaryDirectory(prefix="vodkit-package-") as tmp:
        build = Path(tmp) / "build"
        shutil.copytree(template.parent / code, build)
        _pip_target(build, ["--no-deps", str(ROOT)], platform=False)  # pure Python: any platform
        if dependencies:
            _pip_target(build, list(RUNTIME_DEPENDENCIES), platform=True)
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


def package(out_dir: Path, bucket: str, *, dependencies: bool = True) -> tuple[Path, Path, str]:
    """Build the artifact and the packaged template; return their paths and the S3 key."""
    artifact = build_artifact(out_dir / "lambda.zip", dependencies=dependencies)
    key = f"vodkit/lambda-{sha256(artifact)[:32]}.zip"
    packaged = out_dir / "template.packaged.json"
    packaged.write_text(json.dumps(packaged_template(bucket, key), indent=1, sort_keys=True))
    return artifact, packaged, key


def deploy(
    stack: str,
    bucket: str,
    out_dir: Path,
    *,
    parameters: dict[str, str] | None = None,
    dependencies: bool = True,
    session: Any = None,
) -> dict[str, str]:
    """Package, upload, create or update the stack, wait; return the stack's outputs."""
    import boto3

    session = session or boto3.session.Session()
    artifact, packaged, key = package(out_dir, bucket, dependencies=dependencies)
    s3 = session.client("s3")
    s3.upload_file(str(artifact), bucket, key)
    cfn = session.client("cloudformation")
    request: dict[str, Any] = {
        "StackName": stack,
        "TemplateBody": packaged.read_text(),
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
        ],
    }
    try:
        cfn.describe_stacks(StackName=stack)
        exists = True
    except cfn.exceptions.ClientError:
        exists = False
    if exists:
        try:
            cfn.update_stack(**request)
            cfn.get_waiter("stack_update_complete").wait(StackName=stack)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    else:
        cfn.create_stack(**request)
        cfn.get_waiter("stack_create_complete").wait(StackName=stack)
    return stack_outputs(cfn, stack)


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
