"""A Mastodon-shaped server on 127.0.0.1 serving a burst of new mentions, for the event-loop stall benchmark.

It answers just the endpoints a first sync of ``MastodonConnector`` reads: ``verify_credentials``, newest-first
``notifications`` pages linked by ``Link`` headers, each mention's ``context`` (the whole conversation), single
statuses (the sync's re-read of open threads) and an empty ``conversations`` list. ``--posts`` posts arrive in
threads of ``THREAD_POSTS``: a customer's mention of the shop, then replies from customers and the shop, all within
the last few days so a first sync (two weeks back) takes every one.

Run as its own process (``bench/gui.py`` starts it), so building responses never competes with the app's Qt thread
for the GIL: the stall measured is the app's own. Prints ``port: N`` once listening, then serves until killed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

THREAD_POSTS = 10
SHOP_ID = "1"
WORDS = (
    "order delivery refund help still waiting parcel tracking please thanks courier late missing box wrong size "
    "colour return exchange receipt invoice charged twice cancel subscription battery screen charger warranty"
).split()


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def account(native: str, host: str) -> dict[str, object]:
    name = "shop" if native == SHOP_ID else f"customer{native}"
    return {
        "id": native, "username": name, "acct": name, "display_name": name.title(),
        "followers_count": 10 + int(native) % 5000, "following_count": 50, "statuses_count": 300,
        "url": f"http://{host}/@{name}",
    }


class World:
    """Every status, pre-rendered: notification pages and contexts are served from memory."""

    def __init__(self, posts: int, host: str, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.host = host
        now = time.time()
        threads = max(1, posts // THREAD_POSTS)
        self.statuses: dict[str, dict[str, object]] = {}
        self.descendants: dict[str, list[dict[str, object]]] = {}
        self.notifications: list[dict[str, object]] = []  # newest first
        shop = account(SHOP_ID, host)
        serial = 1000
        for number in range(threads):
            start = now - 5 * 24 * 3600 + number * (4 * 24 * 3600 / threads)
            customer = account(str(2 + number % 5000), host)
            chain: list[dict[str, object]] = []
            parent: str | None = None
            for position in range(THREAD_POSTS):
                serial += 1
                native = str(serial)
                author = shop if position % 3 == 2 else customer
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
                status = {
                    "id": native, "created_at": iso(start + position * 60), "in_reply_to_id": parent,
                    "in_reply_to_account_id": None, "account": author,
                    "content": f'<p><span class="h-card"><a href="http://{host}/@shop" class="u-url mention">'
                               f"@<span>shop</span></a></span> {text}</p>",
                    "spoiler_text": "", "visibility": "public", "url": f"http://{host}/@x/{native}",
                    "uri": f"http://{host}/statuses/{native}", "reblogs_count": 0, "favourites_count": position,
                    "replies_count": 0, "mentions": [{"id": SHOP_ID, "username": "shop", "acct": "shop",
                                                      "url": f"http://{host}/@shop"}],
                    "media_attachments": [], "reblog": None, "edited_at": None,
                }
                self.statuses[native] = status
                chain.append(status)
                parent = native
            root = chain[0]
            self.descendants[str(root["id"])] = chain[1:]
            self.notifications.append({"id": str(root["id"]), "type": "mention", "created_at": root["created_at"],
                                       "account": root["account"], "status": root})
        self.notifications.reverse()
        self.shop = shop
        self.served_contexts = 0


def make_handler(world: World) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet: thousands of requests
            pass

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            path = url.path
            if path == "/api/v1/accounts/verify_credentials":
                self._send(200, world.shop)
            elif path == "/api/v1/notifications":
                self._notifications(query)
            elif path == "/api/v1/conversations":
                self._send(200, [])
            elif path.startswith("/api/v1/statuses/") and path.endswith("/context"):
                native = path.split("/")[4]
                world.served_contexts += 1
                self._send(200, {"ancestors": [], "descendants": world.descendants.get(native, [])})
            elif path.startswith("/api/v1/statuses/") and path.count("/") == 4:
                status = world.statuses.get(path.split("/")[4])
                self._send(200 if status else 404, status or {"error": "Record not found"})
            else:
                self._send(404, {"error": "Record not found"})

        def _notifications(self, query: dict[str, list[str]]) -> None:
            limit = min(80, int(query.get("limit", ["40"])[0]))
            items = world.notifications
            if "max_id" in query:
                below = int(query["max_id"][0])
                items = [n for n in items if int(str(n["id"])) < below]
            if "min_id" in query:
                above = int(query["min_id"][0])
                items = [n for n in items if int(str(n["id"])) > above][-limit:]
            page = items[:limit]
            headers = {}
            if page:
                base = f"http://{world.host}/api/v1/notifications?limit={limit}"
                headers["Link"] = (f'<{base}&max_id={page[-1]["id"]}>; rel="next", '
                                   f'<{base}&min_id={page[0]["id"]}>; rel="prev"')
            self._send(200, page, headers)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=50_000)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host = f"127.0.0.1:{server.server_address[1]}"
    world = World(args.posts, host)
    server.RequestHandlerClass = make_handler(world)
    print(f"port: {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
