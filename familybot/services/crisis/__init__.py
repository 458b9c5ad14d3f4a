"""Crisis: crisis lines, their configuration and the FAQ."""
