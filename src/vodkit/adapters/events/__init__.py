"""Event buses: how job-state events reach the status processor and observers."""
