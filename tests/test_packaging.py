"""The PyInstaller bundle's contract with the code: its launcher starts the same main as the installed command, and
resources are found through sys._MEIPASS. (.ci/run builds the real bundle and smoke-runs it.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from console import paths

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "packaging" / "launch.py"


def test_launcher_starts_the_installed_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["gui-scripts"]
    module, function = scripts["tend"].split(":")
    assert f"from {module} import {function}" in LAUNCHER.read_text(encoding="utf-8")


def test_launcher_runs_as_a_script() -> None:
    # PyInstaller runs the launcher as __main__ with the repository root on the path (build.spec's pathex).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(LAUNCHER), "--version"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Tend ")


def test_resources_are_found_inside_a_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    icon = tmp_path / "resources" / "icons" / "tend.svg"
    icon.parent.mkdir(parents=True)
    icon.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_path("icons", "tend.svg") == icon


def test_a_missing_bundled_resource_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    with pytest.raises(FileNotFoundError, match="tend.svg"):
        paths.resource_path("icons", "tend.svg")
