"""The owner's own web browser, for signing in to a network and for opening a post where it lives.

One function, so that every "open in browser" goes through the same door; tests replace it (or the attribute that
holds it) with a simulated browser.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_in_browser(url: str) -> bool:
    """Hand ``url`` to the system browser; False when the desktop has none to hand it to."""
    return QDesktopServices.openUrl(QUrl(url))
