"""Where API keys are kept: the catalog's database (hashed)."""
