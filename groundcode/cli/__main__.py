"""``python -m groundcode.cli``: what ``groundcode serve`` runs for each browser session."""

from groundcode.cli import main

main()
