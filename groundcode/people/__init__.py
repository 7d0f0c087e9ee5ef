"""People and access: coders, roles, blind mode (the rules live in ``store.access``)."""
