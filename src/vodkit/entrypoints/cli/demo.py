"""``vodkit demo``: a sample clip through the whole pipeline, here."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ...domain.asset import AssetStatus
from .common import JsonOption, app, err, exit_for, follow_on, footprint, print_asset, progress_bar


@app.command()
def demo(as_json: JsonOption = False) -> None:
    """Make a sample clip, ingest it, process it here, and show where the outputs are."""
    vodkit = footprint()
    vodkit.processing.check()
    with tempfile.TemporaryDirectory(prefix="vodkit-demo-") as tmp:
        sample = vodkit.make_sample(Path(tmp) / "sample.mp4")
        upload = vodkit.assets.upload_file(sample, "demo", f"sample-{int(time.time())}.mp4")
    err.print(f"uploaded a 10 s 1280x720 sample as {upload.key}")
    with progress_bar() as bar:
        asset = vodkit.processing.wait(upload.asset_id, follow_on(bar))
    data = vodkit.assets.view(asset).to_dict()
    print_asset(data, as_json)
    if not as_json and asset.status is AssetStatus.COMPLETED:
        err.print("\nplay it: any HLS or DASH player on the files above; list assets with "
                  "`vodkit assets list`")  # fmt: skip
    exit_for(data["status"])
