"""groundcode.tui."""
