"""groundcode.tui.screens."""
