"""vodkit: uploads in, streaming renditions out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vodkit")  # pyproject.toml's, as installed: one source
except PackageNotFoundError:  # a source tree on the path, never installed
    __version__ = "0+unknown"
