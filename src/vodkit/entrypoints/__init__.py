"""Entrypoints: the CLI, the worker, and (later) the HTTP API and AWS Lambda handlers."""
