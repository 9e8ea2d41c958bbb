"""Queues with SQS semantics: at-least-once, leases, receive counts, a DLQ."""
