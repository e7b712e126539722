"""The app imports httpx's lazily loaded async backend before it starts syncing (console.ui.application), so that
the first request does not import modules on the Qt thread. This checks, in a fresh interpreter, that after
``preload_async_backend`` a first request to a local server imports nothing more: a newer httpx/httpcore/anyio
that loads other modules lazily fails here, and ASYNC_BACKEND_MODULES needs them added."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from console.connectors.http import ASYNC_BACKEND_MODULES, preload_async_backend

REPO_ROOT = Path(__file__).resolve().parents[2]

FIRST_REQUEST = textwrap.dedent("""
    import asyncio, json, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from console.connectors.http import HttpClient, preload_async_backend

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    preload = sys.argv[1] == "preload"
    if preload:
        preload_async_backend()

    async def first_request():
        client = HttpClient(f"http://127.0.0.1:{server.server_port}")
        before = set(sys.modules)
        try:
            payload = await client.get_json("/")
        finally:
            await client.aclose()
        return payload, sorted(set(sys.modules) - before)

    payload, imported = asyncio.run(first_request())
    server.shutdown()
    print(json.dumps({"payload": payload, "imported": imported}))
""")


def first_request_imports(mode: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", FIRST_REQUEST, mode], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["payload"] == {"ok": True}
    return report["imported"]


def test_after_the_preload_a_first_request_imports_nothing() -> None:
    assert first_request_imports("preload") == []


def test_without_it_the_first_request_imports_the_backend_the_preload_names() -> None:
    """The other half: the list is not empty for nothing. (If httpx ever imports its backend eagerly, this fails
    and the preload can go.)"""
    imported = first_request_imports("no-preload")
    assert "anyio._backends._asyncio" in imported and "sniffio" in imported


def test_every_named_module_exists_in_the_installed_versions() -> None:
    assert preload_async_backend() == []
