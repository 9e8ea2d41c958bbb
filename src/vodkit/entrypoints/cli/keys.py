"""``vodkit keys``: the HTTP API's keys (created here, shown once, stored hashed)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ...config import Selection, load_settings
from ...footprints import load_api
from ...services.access import KeyService
from .common import (
    JsonOption,
    app,
    configure_logging,
    err,
    out,
    printable,
    table,
    uploader_option,
)
from .readable import Typer

keys = Typer(help="API keys for the HTTP API.", no_args_is_help=True)
app.add_typer(keys, name="keys")


def _keys() -> KeyService:
    configure_logging(load_settings(Selection).log_level)
    return load_api().keys


@keys.command("create")
def keys_create(
    uploader: Annotated[str, uploader_option("The uploader the key acts for.")],
    admin: Annotated[bool, typer.Option("--admin", help="May see and act for everyone.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Make a key; it is printed once and cannot be shown again."""
    record, token = _keys().create(uploader, admin=admin)
    if as_json:
        shown = {"keyId": record.key_id, "key": token, "uploaderId": record.uploader_id}
        out.print(json.dumps({**shown, "admin": record.admin}))
        return
    out.print(token, markup=False)
    err.print(f"key {record.key_id} for {printable(uploader)}{' (admin)' if admin else ''}: "
              "keep it now, it is not shown again")  # fmt: skip


@keys.command("list")
def keys_list(as_json: JsonOption = False) -> None:
    """Every key, newest first (never the secret)."""
    found = _keys().all()
    if as_json:
        out.print(json.dumps({"keys": [
            {"keyId": k.key_id, "uploaderId": k.uploader_id, "admin": k.admin,
             "createdAt": k.created_at, "revokedAt": k.revoked_at or None} for k in found
        ]}))  # fmt: skip
        return
    cells = [
        [k.key_id, printable(k.uploader_id), "admin" if k.admin else "uploader", k.created_at,
         f"revoked {k.revoked_at}" if k.revoked_at else "live"]
        for k in found
    ]  # fmt: skip
    for line in table(cells):
        out.print(line, markup=False)


@keys.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (keys list).")]) -> None:
    """Revoke a key: it stops working at once."""
    _keys().revoke(key_id)
    out.print(f"key {key_id} revoked")
