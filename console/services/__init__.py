"""The thin async layer between the core (store, connectors) and the UI."""
