"""groundcode.analysis."""
