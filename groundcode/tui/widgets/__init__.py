"""groundcode.tui.widgets."""
