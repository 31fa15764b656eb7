"""Dollar exposure per regulation from classified AI-tool events: an Open FAIR style Monte Carlo, and its exports."""
