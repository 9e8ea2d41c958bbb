"""``vodkit captions``: add, list and remove the captions of an asset, as the HTTP API's
``/v1/assets/{id}/captions`` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ...domain.errors import LimitExceeded
from ...domain.tracks import TextKind
from ...services.captions import sidecar
from .common import JsonOption, _track_line, app, footprint, out
from .readable import Typer

captions = Typer(help="Add, list and remove an asset's captions.", no_args_is_help=True)
app.add_typer(captions, name="captions")


@captions.command("add")
def captions_add(
    asset_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="SubRip or WebVTT.")],
    lang: Annotated[str, typer.Option(help="Its BCP 47 language: en, pt-BR, zh-Hans.")],
    label: Annotated[str, typer.Option(help="The name players show.")] = "",
    kind: Annotated[TextKind, typer.Option(help="captions: for the deaf (SDH).")] = (
        TextKind.SUBTITLES
    ),
    default: Annotated[bool, typer.Option("--default", help="Shown unless turned off.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a caption file to an asset, or replace its language's: a COMPLETED asset's
    manifests are published again, with no re-encode; one still processing publishes it
    when it completes."""
    app_ = footprint()
    service = app_.captions
    if file.stat().st_size > service.limits.max_caption_bytes:  # before it is read
        raise LimitExceeded(
            f"a caption file may hold at most {service.limits.max_caption_bytes} bytes"
        )
    track = sidecar(lang, label=label, kind=kind, default=default)
    added = service.put(app_.assets.get(asset_id), track, file.read_bytes())
    if as_json:
        out.print(json.dumps({**added.track.public(), "created": added.created}), markup=False)
        return
    verb = "added" if added.created else "replaced"
    out.print(f"{asset_id}: {verb} {_track_line(added.track.public())}", markup=False)


@captions.command("list")
def captions_list(asset_id: str, as_json: JsonOption = False) -> None:
    """List an asset's text tracks: its source's own (embedded) and those added (sidecar)."""
    app_ = footprint()
    tracks = [t.public() for t in app_.captions.list(app_.assets.get(asset_id))]
    if as_json:
        out.print(json.dumps({"captions": tracks}), markup=False)
        return
    for track in tracks:
        out.print(_track_line(track), markup=False)


@captions.command("remove")
def captions_remove(
    asset_id: str,
    lang: Annotated[str, typer.Argument(help="The BCP 47 language of the added captions.")],
    as_json: JsonOption = False,
) -> None:
    """Remove the captions added in a language (a source's own stay); manifests republished."""
    app_ = footprint()
    app_.captions.remove(app_.assets.get(asset_id), lang)
    if as_json:
        out.print(json.dumps({"assetId": asset_id, "removed": lang}), markup=False)
        return
    out.print(f"{asset_id}: removed the {lang} captions", markup=False)
