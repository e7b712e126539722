"""Where Tend keeps things on the owner's machine, and where its bundled resources are.

Resources are found the same way from a source checkout, an editable install and the PyInstaller bundle
(``sys._MEIPASS``), so nothing else in the app needs to know how it was installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

from console import APP_NAME

_APP_DIR_NAME = "Tend"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(_APP_DIR_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(_APP_DIR_NAME, appauthor=False))


def default_inbox_path() -> Path:
    """The owner's own inbox."""
    return data_dir() / "inbox.db"


def demo_inbox_path() -> Path:
    """The demo network's inbox: kept apart so a demo never mixes with real customers."""
    return data_dir() / "demo-inbox.db"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource; raises FileNotFoundError with a clear message when the install is incomplete."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{APP_NAME} resource missing: {path} (the installation looks incomplete)")
    return path
