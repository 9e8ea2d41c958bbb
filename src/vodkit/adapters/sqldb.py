"""What the stores of the catalog's database need of it, whichever engine holds it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


class SqlDatabase(Protocol):
    dialect: str
    row_lock: str  # what a SELECT adds to hold the rows it reads until the transaction ends
    quick_reads: bool  # a read takes microseconds and never waits: no thread needed for it

    def write(self) -> AbstractContextManager[Any]:
        """A transaction; its connection takes ``?`` placeholders."""
        ...

    def reading(self) -> AbstractContextManager[Any]: ...
