"""console.replies is pure logic: importing it must not pull in Qt."""

from __future__ import annotations

import subprocess
import sys


def test_no_qt_in_replies() -> None:
    code = (
        "import sys, console.replies.tone, console.replies.cooloff, console.replies.guard, "
        "console.replies.length, console.replies.canned, console.replies.hours, console.replies.repeat\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'qasync'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
