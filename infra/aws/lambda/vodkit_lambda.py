"""Lambda's entry module (Handler: vodkit_lambda.ingest / vodkit_lambda.status).

`vodkit aws package` zips this directory with vodkit and its runtime dependencies.
"""

from vodkit.entrypoints.aws_lambda import ingest, status

__all__ = ["ingest", "status"]
