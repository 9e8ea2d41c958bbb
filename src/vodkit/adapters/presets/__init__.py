"""Where presets come from besides a file: SSM Parameter Store."""
