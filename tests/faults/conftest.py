"""Helpers for the fault tests: child Tend processes that are killed, and read-only checks of what they left."""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Child:
    """A child process whose stdout lines are read without ever blocking the test past a deadline."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []

    def read_until(self, wanted: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(deadline - time.monotonic())
            if line.startswith(wanted):
                return line

    def read_line(self, timeout: float) -> str:
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(max(timeout, 0.0)):
                self.kill()
                raise AssertionError(f"the child said nothing in time: {self.proc.stderr.read()}")
        line = self.proc.stdout.readline()
        assert line, f"the child ended early: {self.proc.stderr.read()}"
        self.lines.append(line.strip())
        return line.strip()

    def kill(self) -> None:
        """SIGKILL, then everything it managed to print before dying."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.lines.extend(line.strip() for line in self.proc.stdout.read().splitlines())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.close()


def tend_child(children: list[Child], *args: str, env: dict[str, str] | None = None) -> Child:
    child = Child([sys.executable, *args], env)
    children.append(child)
    return child


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
