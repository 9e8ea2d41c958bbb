"""Adapters: one package per port, ``base.py`` the port, one file per technology."""
