"""The pure core: assets and their state machine, presets, planning, events.

Nothing here imports anything but the standard library, so every rule of the
pipeline can be tested in milliseconds and reused by every footprint.
"""
