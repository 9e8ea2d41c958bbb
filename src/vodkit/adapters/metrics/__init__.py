"""Metrics sinks: Prometheus here, CloudWatch in the AWS footprint."""
