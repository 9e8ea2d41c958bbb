"""What the stores of the catalog's database need of it, whichever engine holds it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol


class SqlDatabase(Protocol):
    dialect: str
    row_lock: str  # what a SELECT adds to hold the rows it reads until the transaction ends

    def read_now(self, read: Callable[[], Any]) -> Any:
        """Runs a read on the calling thread, where one takes microseconds and never waits
        long (no thread needed for it); TransientError where it would wait: read it again
        where waiting is harmless (a thread)."""
        ...

    def write(self) -> AbstractContextManager[Any]:
        """A transaction; its connection takes ``?`` placeholders."""
        ...

    def reading(self) -> AbstractContextManager[Any]: ...
