"""``vodkit ingest``: upload a file, and with ``--wait`` see it through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    JsonOption,
    app,
    exit_for,
    follow_on,
    footprint,
    out,
    print_asset,
    progress_bar,
    uploader_option,
)


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(help="A video file to upload.", exists=True, dir_okay=False)
    ],
    uploader: Annotated[
        str, uploader_option("Uploader id: the key is uploads/{uploader}/{name}.")
    ] = "cli",
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the result (embedded: processing it here).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Upload FILE to the uploads store and queue it for processing."""
    vodkit = footprint()
    if wait:
        vodkit.processing.check()
    upload = vodkit.assets.upload_file(file, uploader)
    if not wait:
        if as_json:
            queued = {"assetId": upload.asset_id, "status": "QUEUED", "sourceKey": upload.key}
            out.print(json.dumps(queued))
        else:
            out.print(upload.asset_id)
        return
    with progress_bar() as bar:
        asset = vodkit.processing.wait(upload.asset_id, follow_on(bar))
    data = vodkit.assets.view(asset).to_dict()
    print_asset(data, as_json)
    exit_for(data["status"])
