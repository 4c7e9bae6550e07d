"""edgesla loadtests (see README)."""
