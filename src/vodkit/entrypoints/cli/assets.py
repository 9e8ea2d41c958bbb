"""``vodkit assets``: list, show and retry the catalog's assets."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...domain.asset import AssetStatus
from .common import JsonOption, app, footprint, out, print_asset, printable, table
from .readable import Typer

assets = Typer(help="Query and retry assets in the catalog.", no_args_is_help=True)
app.add_typer(assets, name="assets")


@assets.command("list")
def assets_list(
    status: Annotated[AssetStatus | None, typer.Option(help="Only this status.")] = None,
    uploader: Annotated[str | None, typer.Option(help="Only this uploader.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """List assets, newest first, one a line."""
    service = footprint().assets
    rows, _ = service.page(status=status, uploader_id=uploader, limit=limit)
    if as_json:
        out.print(json.dumps({"assets": [service.view(a).to_dict() for a in rows]}))
        return
    cells = [
        [a.asset_id, str(a.status), printable(a.uploader_id), a.created_at, printable(a.source_key)]
        for a in rows
    ]
    for line in table(cells):
        out.print(line, markup=False)


@assets.command("show")
def assets_show(asset_id: str, as_json: JsonOption = False) -> None:
    """Show one asset: status, outputs, renditions, jobs, errors."""
    service = footprint().assets
    print_asset(service.view(service.get(asset_id)).to_dict(), as_json)


@assets.command("retry")
def assets_retry(asset_id: str) -> None:
    """Queue a FAILED asset for another attempt."""
    asset = footprint().assets.retry(asset_id)
    out.print(f"{asset_id} queued again (attempt {asset.attempt})")
