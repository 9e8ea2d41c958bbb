"""The ``vodkit`` command line."""

from __future__ import annotations

import json
import logging
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
)

from .. import __version__
from ..adapters.storage.base import file_md5
from ..adapters.storage.local import LocalObjectStore
from ..adapters.transcoder.ffmpeg import FfmpegTranscoder, ffmpeg_executable
from ..bootstrap import App, bootstrap, make_presets, make_prober, make_transcoder
from ..config import Settings, load_settings
from ..domain.asset import Asset, AssetStatus
from ..domain.errors import AssetNotFound, InvalidInput, NotFound, VodkitError
from ..domain.keys import asset_id_for, upload_key
from ..services.transcode import transcode_file
from .worker import Worker

app = typer.Typer(
    help="vodkit: uploads in, adaptive HLS + DASH, MP4 preview and poster out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
assets_app = typer.Typer(help="Query and retry assets in the catalog.", no_args_is_help=True)
dlq_app = typer.Typer(help="Inspect and redrive dead-lettered messages.", no_args_is_help=True)
presets_app = typer.Typer(help="Encoding presets.", no_args_is_help=True)
app.add_typer(assets_app, name="assets")
app.add_typer(dlq_app, name="dlq")
app.add_typer(presets_app, name="presets")
aws_app = typer.Typer(help="The AWS footprint: package and deploy the stack.", no_args_is_help=True)
app.add_typer(aws_app, name="aws")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
EXIT_FAILED = 1
EXIT_USAGE = 2

REMOTE_DELIVERY_GRACE = 120.0  # seconds: S3 -> EventBridge -> SQS -> Lambda, generously
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def printable(text: str) -> str:
    """Untrusted strings (keys, file names) with control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _settings() -> Settings:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return settings


def _app(*, transcodes: bool = False) -> App:
    settings = _settings()
    if settings.backend == "aws":
        from ..bootstrap_aws import bootstrap_aws

        return bootstrap_aws(settings)
    app = bootstrap(settings)
    if transcodes:
        _check_transcoder(app.transcoder)
    return app


def _check_transcoder(transcoder: object) -> None:
    if isinstance(transcoder, FfmpegTranscoder):
        transcoder.check()


def result(app: App, asset: Asset) -> dict[str, Any]:
    """The one JSON shape of an asset that the CLI prints."""
    jobs = app.catalog.jobs(asset.asset_id)
    return {
        "assetId": asset.asset_id,
        "status": str(asset.status),
        "uploaderId": asset.uploader_id,
        "sourceKey": asset.source_key,
        "createdAt": asset.created_at,
        "updatedAt": asset.updated_at,
        "fileSize": asset.file_size,
        "attempt": asset.attempt,
        "outputs": {kind: app.outputs.locate(key) for kind, key in asset.outputs.items()},
        "renditions": list(asset.renditions),
        "jobs": [{"jobId": j.job_id, "state": str(j.state), "percent": j.percent} for j in jobs],
        "errors": [{"code": e.code, "message": e.message} for e in asset.errors],
    }


def _print_result(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.print(json.dumps(data), markup=False)
        return
    out.print(f"asset     {data['assetId']}", markup=False)
    out.print(f"status    {data['status']}", markup=False)
    if data.get("sourceKey"):
        out.print(f"source    {printable(data['sourceKey'])}", markup=False)
    for kind, path in data["outputs"].items():
        out.print(f"{kind:<9} {path}", markup=False)
    for r in data["renditions"]:
        audio = f" + audio {r['audioBitrate'] // 1000} kb/s" if r.get("audioBitrate") else ""
        out.print(
            f"rendition {r['name']}: {r['width']}x{r['height']} "
            f"{r['videoBitrate'] // 1000} kb/s{audio}",
            markup=False,
        )
    for e in data["errors"]:
        out.print(f"error     {e['code']}: {printable(e['message'])}", markup=False)


def _progress_bar() -> Progress:
    """Percent and ETA as FFmpeg's progress reports them (via the job's events)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("ETA {task.fields[eta]}"),
        console=err,
        transient=True,
    )


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _exit_for(status: str) -> None:
    if status == AssetStatus.FAILED:
        raise typer.Exit(EXIT_FAILED)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


@app.command()
def transcode(
    source: Annotated[Path, typer.Argument(help="A video file.", exists=True, dir_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Where the outputs go.")],
    as_json: JsonOption = False,
) -> None:
    """Transcode one file into OUT (no catalog, no queue)."""
    settings = _settings()
    transcoder = make_transcoder(settings)
    _check_transcoder(transcoder)
    data: dict[str, Any] = {
        "assetId": asset_id_for("file", str(source.resolve()), file_md5(source)[1]),
        "status": str(AssetStatus.COMPLETED),
        "outputs": {},
        "renditions": [],
        "errors": [],
    }
    store = LocalObjectStore(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _progress_bar() as bar:
            task = bar.add_task("transcoding", total=100, eta=_eta(None))
            keys = transcode_file(
                source,
                store=store,
                prober=make_prober(settings),
                transcoder=transcoder,
                presets=make_presets(settings),
                work_root=out_dir.resolve().parent,  # beside the outputs: same file system
                on_plan=lambda plan: data.update(renditions=plan.summary()),
                on_progress=lambda p: bar.update(
                    task, completed=p.percent, eta=_eta(p.eta_seconds)
                ),
                rules=settings.rules,
            )
        data["outputs"] = {kind: store.locate(key) for kind, key in keys.items()}
    except InvalidInput as exc:
        data["status"] = str(AssetStatus.FAILED)
        data["errors"] = [{"code": exc.code, "message": str(exc)}]
    _print_result(data, as_json)
    _exit_for(data["status"])


def _wait(app: App, asset_id: str, *, show_progress: bool) -> Asset:
    """Follow ``asset_id`` until COMPLETED or FAILED, running an embedded worker if there is one.

    The worker runs in this (the main) thread, so Ctrl-C stops FFmpeg and hands the
    message back exactly as in `vodkit worker`; a background thread follows the asset.
    Where jobs run elsewhere (the AWS stack), this only follows the catalog.
    """
    done = threading.Event()
    outcome: list[Asset | VodkitError] = []
    local = app.transcode_service is not None
    # How long an upload may have neither an asset nor a queued message: none for the
    # embedded worker (it was queued before we started); event delivery time on AWS.
    grace, poll = (0.0, 0.3) if local else (REMOTE_DELIVERY_GRACE, 2.0)

    def follow(bar: Progress, task: TaskID) -> None:
        started = time.monotonic()
        try:
            while not done.is_set():
                asset = app.catalog.get(asset_id)
                if asset is None:  # still queued for ingest, unless its message died
                    depth = app.ingest_queue.depth()
                    if (
                        depth.visible == depth.in_flight == 0
                        and time.monotonic() - started >= grace
                        and app.catalog.get(asset_id) is None
                    ):
                        raise VodkitError(
                            f"the ingest message of {asset_id} was dead-lettered or never "
                            "delivered: see `vodkit dlq list`"
                        )
                elif asset.status.terminal:
                    outcome.append(asset)
                    return
                elif jobs := app.catalog.jobs(asset_id):
                    percent = sum(j.percent for j in jobs) / len(jobs)
                    etas = [j.eta_seconds for j in jobs if j.eta_seconds is not None]
                    eta = _eta(max(etas) if etas else None)
                    bar.update(task, completed=percent, description="transcoding", eta=eta)
                done.wait(poll)
        except VodkitError as exc:
            outcome.append(exc)
        finally:
            done.set()

    with _progress_bar() as bar:
        task = bar.add_task("queued", total=100, visible=show_progress, eta=_eta(None))
        if local:
            follower = threading.Thread(target=follow, args=(bar, task), daemon=True)
            follower.start()
            Worker(app).run(threading.Event(), until=done.is_set, watch=False)
            follower.join()
        else:
            follow(bar, task)
    (result,) = outcome
    if isinstance(result, VodkitError):
        raise result
    return result


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="A video file to upload.", dir_okay=False)],
    uploader: Annotated[
        str, typer.Option(help="Uploader id: the key is uploads/{uploader}/{name}.")
    ] = "cli",
    wait: Annotated[
        bool, typer.Option("--wait", help="Process it here and wait for the result.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Upload FILE to the uploads store and queue it for processing."""
    app = _app(transcodes=wait)
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a readable file", param_hint="FILE")
    key = upload_key(uploader, file.name)  # InvalidKey: refused before anything is stored
    asset_id = app.upload_file(file, key)
    if not wait:
        if as_json:
            out.print(json.dumps({"assetId": asset_id, "status": "QUEUED", "sourceKey": key}))
        else:
            out.print(asset_id)
        return
    asset = _wait(app, asset_id, show_progress=True)
    data = result(app, asset)
    _print_result(data, as_json)
    _exit_for(data["status"])


@app.command()
def worker(
    watch: Annotated[bool, typer.Option(help="Pick up files written into uploads/.")] = True,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics here.")
    ] = None,
) -> None:
    """Process uploads until interrupted (Ctrl-C finishes nothing half-way: the message returns)."""
    app = _app(transcodes=True)
    port = metrics_port or app.settings.metrics_port
    if port:
        from prometheus_client import start_http_server

        from ..adapters.metrics.prometheus import PrometheusMetrics

        assert isinstance(app.metrics, PrometheusMetrics)
        start_http_server(port, addr="127.0.0.1", registry=app.metrics.registry)
        err.print(f"metrics on http://127.0.0.1:{port}/metrics")
    err.print(f"vodkit worker on {app.settings.data_dir.resolve()} (Ctrl-C to stop)")
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop: same as Ctrl-C
    stop = threading.Event()
    try:
        Worker(app).run(stop, watch=watch)
    except KeyboardInterrupt:
        stop.set()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@assets_app.command("list")
def assets_list(
    status: Annotated[AssetStatus | None, typer.Option(help="Only this status.")] = None,
    uploader: Annotated[str | None, typer.Option(help="Only this uploader.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """List assets, newest first, one a line."""
    app = _app()
    rows = app.catalog.query(status=status, uploader_id=uploader, limit=limit)
    if as_json:
        out.print(json.dumps({"assets": [a.to_item() for a in rows]}))
        return
    for a in rows:
        out.print(
            f"{a.asset_id}  {a.status:<10}  {printable(a.uploader_id)}  {a.created_at}  "
            f"{printable(a.source_key)}",
            markup=False,
        )


@assets_app.command("show")
def assets_show(asset_id: str, as_json: JsonOption = False) -> None:
    """Show one asset: status, outputs, renditions, errors."""
    app = _app()
    asset = app.catalog.get(asset_id)
    if asset is None:
        raise AssetNotFound(f"no asset {asset_id}")
    _print_result(result(app, asset), as_json)


@assets_app.command("retry")
def assets_retry(asset_id: str) -> None:
    """Queue a FAILED asset for another attempt."""
    app = _app()
    asset = app.catalog.retry(asset_id, app.clock())
    app.enqueue_upload(app.retry_event(asset), attempt=asset.attempt)
    out.print(f"{asset_id} queued again (attempt {asset.attempt})")


@dlq_app.command("list")
def dlq_list(as_json: JsonOption = False) -> None:
    """List dead-lettered messages of every queue."""
    app = _app()
    letters = [letter for q in app.queues.values() for letter in q.dead_letters()]
    if as_json:
        out.print(json.dumps({"deadLetters": [
            {"queue": d.queue, "id": d.id, "receiveCount": d.receive_count,
             "lastError": d.last_error, "body": d.body} for d in letters
        ]}))  # fmt: skip
        return
    for d in letters:
        out.print(
            f"{d.queue:<9}  {d.id}  receives={d.receive_count}  {printable(d.last_error)[:160]}",
            markup=False,
        )
    if not letters:
        err.print("no dead letters")


@dlq_app.command("redrive")
def dlq_redrive(
    ids: Annotated[list[str] | None, typer.Argument(help="Message ids (default: all).")] = None,
    queue: Annotated[
        str | None,
        typer.Option(help="Only this queue: ingest, transcode (embedded), job-events (aws)."),
    ] = None,
) -> None:
    """Move dead-lettered messages back to their queue."""
    app = _app()
    if queue is not None and queue not in app.queues:
        raise typer.BadParameter(f"unknown queue {queue!r}; choose from {', '.join(app.queues)}")
    moved = sum(q.redrive(ids or None) for name, q in app.queues.items() if queue in (None, name))
    out.print(f"{moved} message(s) redriven")


@presets_app.command("show")
def presets_show() -> None:
    """Print the presets in force (the built-in ones, or $VODKIT_PRESETS)."""
    settings = _settings()
    presets = make_presets(settings)
    err.print(f"presets from {settings.presets or 'the built-in defaults'}")
    out.print(json.dumps(presets.document, indent=2), markup=False)


def make_sample(ffmpeg: str, target: Path, seconds: int = 10) -> Path:
    """A 720p test pattern with a tone: real H.264 + AAC made by FFmpeg."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


@app.command()
def demo(as_json: JsonOption = False) -> None:
    """Make a sample clip, ingest it, process it here, and show where the outputs are."""
    app = _app(transcodes=True)
    with tempfile.TemporaryDirectory(prefix="vodkit-demo-") as tmp:
        sample = make_sample(ffmpeg_executable(app.settings.ffmpeg), Path(tmp) / "sample.mp4")
        key = upload_key("demo", f"sample-{int(time.time())}.mp4")
        asset_id = app.upload_file(sample, key)
    err.print(f"uploaded a 10 s 1280x720 sample as {key}")
    asset = _wait(app, asset_id, show_progress=True)
    data = result(app, asset)
    _print_result(data, as_json)
    if not as_json and asset.status is AssetStatus.COMPLETED:
        err.print("\nplay it: any HLS or DASH player on the files above; list assets with "
                  "`vodkit assets list`")  # fmt: skip
    _exit_for(data["status"])


TemplateOption = Annotated[
    Path | None,
    typer.Option(help="The stack's template (default: infra/aws/template.yaml of the checkout)."),
]
DependenciesOption = Annotated[
    bool, typer.Option(help="Include runtime dependencies (pip, Lambda's platform).")
]


@aws_app.command("package")
def aws_package(
    bucket: Annotated[str, typer.Option(help="S3 bucket the artifact will be uploaded to.")],
    out: Annotated[Path, typer.Option(help="Directory for lambda.zip and the template.")] = Path(
        "build"
    ),
    dependencies: DependenciesOption = True,
    template: TemplateOption = None,
) -> None:
    """Build lambda.zip (deterministic) and template.packaged.json pointing at it."""
    from ..aws_package import TEMPLATE, package

    artifact, packaged, key = package(
        out, bucket, dependencies=dependencies, template=template or TEMPLATE
    )
    typer.echo(f"{artifact}\n{packaged}\ns3://{bucket}/{key}")


@aws_app.command("deploy")
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
    from ..aws_package import TEMPLATE, deploy

    malformed = [p for p in parameter or [] if "=" not in p]
    if malformed:
        raise typer.BadParameter(
            f"expected Key=Value, got {malformed[0]!r}", param_hint="--parameter"
        )
    pairs = dict(p.split("=", 1) for p in parameter or [])
    outputs = deploy(
        stack,
        bucket,
        out,
        parameters=pairs,
        dependencies=dependencies,
        template=template or TEMPLATE,
    )
    err.print(f"stack {stack} is deployed; point the CLI at it with:")
    _print_exports(outputs, stack)


@aws_app.command("outputs")
def aws_outputs(stack: Annotated[str, typer.Option(help="CloudFormation stack name.")]) -> None:
    """Print the settings (export VODKIT_...=...) that point the CLI at a deployed stack."""
    import boto3

    from ..aws_package import stack_outputs

    _print_exports(stack_outputs(boto3.client("cloudformation"), stack), stack)


def _print_exports(outputs: dict[str, str], stack: str) -> None:
    from ..aws_package import settings_env

    for name, value in settings_env(outputs, stack).items():
        typer.echo(f"export {name}={shlex.quote(value)}")


def main() -> None:
    try:
        app()
    except (VodkitError, NotFound) as exc:
        err.print(f"error: {printable(str(exc))}", markup=False)
        sys.exit(EXIT_USAGE)
