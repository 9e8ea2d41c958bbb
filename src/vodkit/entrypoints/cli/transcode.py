"""``vodkit transcode``: one file through FFmpeg, here and now; no catalog, no queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ...domain.asset import AssetStatus
from ...domain.errors import Failure
from .common import JsonOption, app, configure_logging, eta, exit_for, print_asset, progress_bar


@app.command()
def transcode(
    source: Annotated[Path, typer.Argument(help="A video file.", exists=True, dir_okay=False)],
    out_dir: Annotated[Path, typer.Option("--out", help="Where the outputs go.")],
    as_json: JsonOption = False,
) -> None:
    """Transcode one file into OUT (no catalog, no queue)."""
    from ...config import load_settings
    from ...footprints import embedded  # whatever VODKIT_BACKEND says: FFmpeg, here

    settings = load_settings(embedded.EmbeddedSettings)
    configure_logging(settings.log_level)
    transcoding = embedded.file_transcoding(settings)
    data: dict[str, Any] = {
        "assetId": transcoding.asset_id(source),
        "status": str(AssetStatus.COMPLETED),
        "outputs": {},
        "renditions": [],
        "errors": [],
    }
    store = embedded.output_store(out_dir)
    try:
        with progress_bar() as bar:
            task = bar.add_task("probing", total=100, eta=eta(None))
            keys = transcoding.run(
                source,
                store,
                work_root=out_dir.resolve().parent,  # beside the outputs: one file system
                on_plan=lambda plan: data.update(renditions=plan.summary()),
                on_phase=lambda phase, percent: bar.update(
                    task, description=phase, completed=percent, eta=eta(None)
                ),
                on_progress=lambda p: bar.update(task, completed=p.percent, eta=eta(p.eta_seconds)),
            )
        data["outputs"] = {kind: store.locate(key) for kind, key in keys.items()}
    except Failure as exc:
        data["status"] = str(AssetStatus.FAILED)
        data["errors"] = [{"code": str(exc.code), "message": str(exc)}]
    print_asset(data, as_json)
    exit_for(data["status"])
