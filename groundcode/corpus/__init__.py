"""groundcode.corpus."""
