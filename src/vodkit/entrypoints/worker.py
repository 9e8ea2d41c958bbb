"""The long-running worker process: a service manager's stop or Ctrl-C in, a clean stop out.

SIGTERM is handled as Ctrl-C: the consumer hands an unfinished message straight
back (FFmpeg is killed), so another worker takes it at once.
"""

from __future__ import annotations

import signal
import threading

from ..services.processing import Runnable


def run(worker: Runnable) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    stop = threading.Event()
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
