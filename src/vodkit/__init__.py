"""vodkit: uploads in, streaming renditions out."""

__version__ = "0.1.0"
