"""Object stores: where uploads land and outputs are published."""
