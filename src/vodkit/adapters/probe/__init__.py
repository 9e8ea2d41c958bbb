"""Probers: what is inside an upload, learned safely."""
