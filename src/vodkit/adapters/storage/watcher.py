"""Object-created notifications for a local store: the embedded S3 -> EventBridge.

A file written under the watched prefix is announced once it is complete:
present, a regular file, and unchanged in size and mtime for ``settle``
seconds (the store's own writes are atomic renames, so they settle at once).
Hidden and temporary files are ignored; keys that fail validation are logged
and skipped, never turned into paths. Once watching, it also catches up on
files that arrived while nothing watched and that ``seen`` does not know.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...domain.errors import InvalidKey, ObjectNotFound, VodkitError
from .base import ObjectInfo
from .local import LocalObjectStore

log = logging.getLogger(__name__)


class UploadWatcher:
    def __init__(
        self,
        store: LocalObjectStore,
        on_created: Callable[[ObjectInfo], None],
        *,
        seen: Callable[[str], bool] = lambda key: False,
        prefix: str = "uploads/",
        settle: float = 1.0,
    ) -> None:
        self.store = store
        self.on_created = on_created
        self.seen = seen
        self.directory = store.root / prefix
        self.settle = settle
        # path -> (size, mtime_ns, monotonic time that state was first seen)
        self._pending: dict[Path, tuple[int, int, float]] = {}

    def _catch_up(self) -> None:
        for info in self.store.list(self.store.key_prefix):
            if not self.seen(info.key):
                self._pending.setdefault(self.store.root / info.key, (-1, -1, 0.0))

    def run(self, stop: threading.Event) -> None:
        from watchfiles import Change, watch  # optional at import time: only workers watch

        self.directory.mkdir(parents=True, exist_ok=True)
        tick_ms = max(50, int(min(self.settle, 1.0) * 500))
        first = True
        for changes in watch(
            self.directory,
            stop_event=stop,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
            debounce=tick_ms,
            raise_interrupt=False,
        ):
            if first:  # the watch is live: nothing arriving from now on can be missed
                first = False
                self._catch_up()
            for change, raw in changes:
                path = Path(raw)
                if change is not Change.deleted and not path.name.startswith("."):
                    self._pending.setdefault(path, (-1, -1, 0.0))
            self._settle()

    def _settle(self) -> None:
        now = time.monotonic()
        for path, (size, mtime, since) in list(self._pending.items()):
            try:
                stat = path.stat()
            except FileNotFoundError:
                del self._pending[path]
                continue
            if not path.is_file():
                del self._pending[path]
                continue
            if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
                self._pending[path] = (stat.st_size, stat.st_mtime_ns, now)
            elif now - since >= self.settle:
                del self._pending[path]
                self._announce(path)

    def _announce(self, path: Path) -> None:
        try:
            key = self.store.key_for(path)
            info = self.store.head(key)
        except (InvalidKey, ValueError) as exc:
            log.warning("ignoring %s in the uploads directory: %s", ascii(path.name), exc)
            return
        except ObjectNotFound:
            return
        try:
            self.on_created(info)
        except VodkitError:
            log.exception("could not announce upload %s", ascii(key))
