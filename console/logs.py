"""Logging to a rotating file in the owner's log folder (and the terminal with --verbose)."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from console.paths import log_dir


def setup_logging(verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_tend_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / "tend.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    except OSError as error:  # a read-only home must not stop the app
        print(f"Tend: cannot write its log file ({error}); logging to the terminal only.", file=sys.stderr)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.DEBUG if verbose else logging.WARNING)
    terminal.setFormatter(formatter)
    root.addHandler(terminal)
    # httpx logs every request URL at INFO; URLs may carry tokens on some networks.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    root._tend_configured = True  # type: ignore[attr-defined]
