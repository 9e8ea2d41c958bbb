"""The pure core: assets and their state machine, presets, plans (the ladder, per-title),
events, and the one view of an asset every front door shows.

Nothing here imports anything but the standard library, so every rule of the
pipeline can be tested in milliseconds and reused by every footprint.
"""
