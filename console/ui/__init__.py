"""Widgets and Qt item models. They read through the UI's own inbox connection and write through services."""
