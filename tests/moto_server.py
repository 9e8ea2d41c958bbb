"""A moto server whose DynamoDB writes are atomic, as DynamoDB's are.

moto serves requests on threads and applies a conditional write as a read, a check and a
write: two at once can both pass their condition or lose one's update, which DynamoDB never
does for one item. The catalog's races (two last jobs completing at once) rely on that
guarantee, so its tests need it: DynamoDB requests are served one at a time here, anything
else (SQS long polls) as moto serves it.

Run as ``python -m tests.moto_server HOST PORT``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def dynamodb_serialised(app: Wsgi) -> Wsgi:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:  # the whole response, body included, before the next write
            return list(app(environ, start_response))

    return serve


def main(host: str, port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host, port, dynamodb_serialised(app), threaded=True, request_handler=MotoRequestHandler
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
