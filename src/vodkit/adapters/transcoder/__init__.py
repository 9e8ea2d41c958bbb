"""Transcoders: FFmpeg here and now, or a job handed to whatever runs jobs."""
