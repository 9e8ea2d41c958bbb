"""Catalogs: the record of every asset and its jobs."""
