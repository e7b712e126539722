"""Tend: a calm desktop inbox for small businesses answering customers on social networks."""

__version__ = "0.1.0"
APP_NAME = "Tend"
