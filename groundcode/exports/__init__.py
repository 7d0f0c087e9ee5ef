"""groundcode.exports."""
