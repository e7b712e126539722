"""Icons from resources/, cached: the list asks for one per row on every paint."""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QIcon, QPixmap

from console.paths import resources_dir

# Networks whose icon is drawn here rather than shipped as a file: the usual feed symbol (a dot and two arcs),
# in the same rounded square as the other networks' icons.
_DRAWN = {
    "feed": """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect x="4" y="4" width="56" height="56" rx="14" fill="#e8772e"/>
  <circle cx="21" cy="43" r="5" fill="#ffffff"/>
  <path d="M16 29a19 19 0 0 1 19 19" fill="none" stroke="#ffffff" stroke-width="6" stroke-linecap="round"/>
  <path d="M16 17a31 31 0 0 1 31 31" fill="none" stroke="#ffffff" stroke-width="6" stroke-linecap="round"/>
</svg>""",
}


@functools.cache
def network_icon(network: str) -> QIcon:
    path = resources_dir() / "icons" / f"{network}.svg"
    if not path.exists() and network in _DRAWN:
        pixmap = QPixmap()
        if pixmap.loadFromData(QByteArray(_DRAWN[network].encode()), "SVG"):
            return QIcon(pixmap)
    if not path.exists():
        path = resources_dir() / "icons" / "unknown.svg"
    return QIcon(str(path))


@functools.cache
def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "tend.svg"))
