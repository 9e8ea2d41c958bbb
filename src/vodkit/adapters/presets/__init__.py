"""Where presets come from: a JSON file (the built-in defaults, or the operator's), SSM."""
