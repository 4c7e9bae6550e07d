"""edgesla probes (see README)."""
