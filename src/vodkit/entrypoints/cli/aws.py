"""``vodkit aws``: package and deploy the stack, and point the CLI at it."""

from __future__ import annotations

import shlex
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from ...footprints import module
from .common import app, err
from .readable import Typer

aws = Typer(help="The AWS footprint: package and deploy the stack.", no_args_is_help=True)
app.add_typer(aws, name="aws")

TemplateOption = Annotated[
    Path | None,
    typer.Option(help="The stack's template (default: infra/aws/template.yaml of the checkout)."),
]
DependenciesOption = Annotated[
    bool, typer.Option(help="Include runtime dependencies (pip, Lambda's platform).")
]


def _tooling() -> ModuleType:
    """The AWS footprint's packaging and deploy tooling (the aws extra)."""
    module("aws")  # a missing extra: one line saying what to install
    from ...footprints.aws import package

    return package


@aws.command("package")
def aws_package(
    bucket: Annotated[str, typer.Option(help="S3 bucket the artifact will be uploaded to.")],
    out: Annotated[Path, typer.Option(help="Directory for lambda.zip and the template.")] = Path(
        "build"
    ),
    dependencies: DependenciesOption = True,
    template: TemplateOption = None,
) -> None:
    """Build lambda.zip (deterministic) and template.packaged.json pointing at it."""
    tooling = _tooling()
    artifact, packaged, key = tooling.package(
        out, bucket, dependencies=dependencies, template=template or tooling.TEMPLATE
    )
    typer.echo(f"{artifact}\n{packaged}\ns3://{bucket}/{key}")


@aws.command("deploy")
def aws_deploy(
    stack: Annotated[str, typer.Option(help="CloudFormation stack name.")],
    bucket: Annotated[str, typer.Option(help="Existing S3 bucket for the artifact.")],
    out: Annotated[Path, typer.Option(help="Build directory.")] = Path("build"),
    parameter: Annotated[
        list[str] | None,
        typer.Option(help="Template parameter, Key=Value (repeatable); others keep their value."),
    ] = None,
    dependencies: DependenciesOption = True,
    template: TemplateOption = None,
) -> None:
    """Package, upload, create or update the stack; print the settings the CLI needs."""
    tooling = _tooling()
    malformed = [p for p in parameter or [] if "=" not in p]
    if malformed:
        raise typer.BadParameter(
            f"expected Key=Value, got {malformed[0]!r}", param_hint="--parameter"
        )
    pairs = dict(p.split("=", 1) for p in parameter or [])
    outputs = tooling.deploy(
        stack,
        bucket,
        out,
        parameters=pairs,
        dependencies=dependencies,
        template=template or tooling.TEMPLATE,
    )
    err.print(f"stack {stack} is deployed; point the CLI at it with:")
    _print_exports(tooling, outputs, stack)


@aws.command("outputs")
def aws_outputs(stack: Annotated[str, typer.Option(help="CloudFormation stack name.")]) -> None:
    """Print the settings (export VODKIT_...=...) that point the CLI at a deployed stack."""
    tooling = _tooling()
    _print_exports(tooling, tooling.stack_outputs(tooling.cloudformation(), stack), stack)


def _print_exports(tooling: ModuleType, outputs: dict[str, str], stack: str) -> None:
    for name, value in tooling.settings_env(outputs, stack).items():
        typer.echo(f"export {name}={shlex.quote(value)}")
