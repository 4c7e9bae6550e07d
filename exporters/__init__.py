"""edgesla exporters (see README)."""
