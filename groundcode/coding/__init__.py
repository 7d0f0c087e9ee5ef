"""groundcode.coding."""
