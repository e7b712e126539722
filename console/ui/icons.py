"""Icons from resources/, cached: the list asks for one per row on every paint."""

from __future__ import annotations

import functools

from PySide6.QtGui import QIcon

from console.paths import resources_dir


@functools.cache
def network_icon(network: str) -> QIcon:
    path = resources_dir() / "icons" / f"{network}.svg"
    if not path.exists():
        path = resources_dir() / "icons" / "unknown.svg"
    return QIcon(str(path))


@functools.cache
def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "tend.svg"))
