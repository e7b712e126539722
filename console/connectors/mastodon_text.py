"""Mastodon post HTML as the plain text the inbox stores, and post length counted the way Mastodon counts it.

Post HTML comes from strangers on other servers, so it is treated as hostile: it is sanitised with nh3 first (scripts,
styles and embedded documents dropped with their content, only http(s)/mailto link targets kept), then walked by a
small converter that keeps what a reader needs in plain text: paragraphs and line breaks, link text with its target,
mentions as ``@user@host``, hashtags, custom emoji as ``:shortcode:`` and images as their alt text. Nothing is ever
fetched. The result never looks like markup to a rich-text renderer (Qt guesses "rich text" from a leading ``<tag``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

# A stored post never grows past this; longer ones end with the marker (a 100 kB post stays readable and cheap).
MAX_TEXT_CHARS = 20_000
TRUNCATION_MARKER = " […]"
# Sanitising megabytes a hostile server might send is wasted work: only this much HTML is read.
MAX_HTML_CHARS = 200_000

_ALLOWED_TAGS = {
    "p", "br", "a", "span", "b", "strong", "i", "em", "u", "s", "del", "ins", "code", "pre", "blockquote",
    "ul", "ol", "li", "img", "h1", "h2", "h3", "h4", "h5", "h6", "div", "sub", "sup", "small", "mark", "q", "cite",
}
# Dropped together with everything inside them: their content is code or a document, never words for a reader.
_DROPPED_WITH_CONTENT = {
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "textarea", "select",
    "title", "head", "frameset", "noembed", "noframes",
}
_ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}, "img": {"alt", "class"}}
_URL_SCHEMES = {"http", "https", "mailto"}

_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_LINE_SPACE = re.compile(r"[ \t\r\f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON may escape half of a UTF-16 pair ("\\ud800"); Python then holds a lone surrogate, which UTF-8 cannot encode:
# nh3 and sqlite3 raise UnicodeEncodeError on it. Such a half is shown as the replacement character.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Anything a rich-text renderer could take for a tag, and script URL schemes, are defused in the final text.
_TAG_START = re.compile(r"<(?=\s*[A-Za-z/!?])")
_SCRIPT_SCHEME = re.compile(r"(?i)((?:java|vb)script)(\s*):")


def well_formed(text: str) -> str:
    """``text`` with every lone surrogate (which no encoder accepts) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def neutralise(text: str) -> str:
    """Plain text that no renderer mistakes for markup or a script link; control characters removed.

    ``<b`` becomes ``‹b`` and ``javascript:`` becomes ``javascript：`` (a full-width colon): still readable, never
    live. Right-to-left and zero-width characters are kept: they are legitimate in many languages.
    """
    text = _CONTROL.sub("", well_formed(text))
    text = _TAG_START.sub("\u2039", text)
    return _SCRIPT_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}\uff1a", text)


def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATION_MARKER))].rstrip() + TRUNCATION_MARKER


def sanitise_html(html: str) -> str:
    """nh3 with Mastodon's formatting tags only; unsafe link targets and remote image sources removed."""
    return nh3.clean(
        html[:MAX_HTML_CHARS],
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def html_to_text(
    html: str,
    *,
    mentions: Mapping[str, str] | None = None,
    local_host: str = "",
    limit: int = MAX_TEXT_CHARS,
) -> str:
    """Plain text of a post's HTML ``content``; never raises for any string.

    ``mentions`` maps a mentioned profile URL to its full ``user@host`` (from the status's ``mentions``), so a
    mention shows who it really is; ``local_host`` completes local accounts' names.
    """
    if not html:
        return ""
    html = well_formed(html)
    converter = _TextConverter(mentions or {}, local_host)
    try:
        converter.feed(sanitise_html(html))
        converter.close()
    except Exception:  # pragma: no cover - html.parser is lenient; a parser bug must not lose the whole sync
        return cap_text(neutralise(_HTML_SPACE.sub(" ", nh3.clean(html[:MAX_HTML_CHARS], tags=set()))), limit)
    return cap_text(neutralise(converter.text()), limit)


def _safe_target(href: str) -> str:
    """Only absolute web and mail targets are shown; relative or odd ones say nothing useful to a reader."""
    lowered = href.strip().lower()
    if lowered.startswith(("http://", "https://", "mailto:")):
        return href.strip()
    return ""


def _same_place(text: str, href: str) -> bool:
    def bare(value: str) -> str:
        value = value.strip().lower()
        for prefix in ("https://", "http://", "mailto:", "www."):
            value = value.removeprefix(prefix)
        return value.rstrip("/").rstrip("\u2026")

    return bare(href) == bare(text) or (text.endswith("\u2026") and bare(href).startswith(bare(text)))


class _TextConverter(HTMLParser):
    """Walks sanitised HTML and writes plain text; a link's words are collected until it closes."""

    def __init__(self, mentions: Mapping[str, str], local_host: str) -> None:
        super().__init__(convert_charrefs=True)
        self._mentions = mentions
        self._local_host = local_host
        self._out: list[str] = []
        self._link: tuple[str, str, list[str]] | None = None  # (href, classes, words)
        self._pre = 0

    # -- output ----------------------------------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        if self._link is not None:
            self._link[2].append(text)
        else:
            self._out.append(text)

    def _break(self, lines: int) -> None:
        """End the current line or paragraph: at least ``lines`` newlines, never more where some already are."""
        self._close_link()
        tail = "".join(self._out[-3:])
        have = len(tail) - len(tail.rstrip("\n"))
        if self._out and have < lines:
            self._out.append("\n" * (lines - have))

    def text(self) -> str:
        self._close_link()
        # Preformatted text keeps its line breaks; indentation is not worth a second whitespace model.
        lines = (_LINE_SPACE.sub(" ", line).strip() for line in "".join(self._out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    # -- parser callbacks ------------------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "br":
            self._emit("\n")
        elif tag in _BLOCKS:
            self._break(2)
            if tag == "pre":
                self._pre += 1
        elif tag == "li":
            self._break(1)
            self._out.append("- ")
        elif tag == "a":
            self._close_link()  # links never nest; a second one ends the first
            self._link = (attributes.get("href", ""), attributes.get("class", ""), [])
        elif tag == "img":
            alt = _HTML_SPACE.sub(" ", attributes.get("alt", "")).strip()
            if "emoji" in attributes.get("class", "").split() and alt:
                self._emit(alt)
            else:
                self._emit(f"[image: {alt}]" if alt else "[image]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close_link()
        elif tag in _BLOCKS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self._break(2)
        elif tag == "li":
            self._break(1)

    def handle_data(self, data: str) -> None:
        self._emit(data if self._pre else _HTML_SPACE.sub(" ", data))

    # -- links -----------------------------------------------------------------------------------------------------

    def _close_link(self) -> None:
        if self._link is None:
            return
        href, classes, words = self._link
        self._link = None
        text = _HTML_SPACE.sub(" ", "".join(words)).strip()
        class_names = set(classes.split())
        target = _safe_target(href)
        if "hashtag" in class_names or (text.startswith("#") and "mention" in class_names):
            self._out.append(text)
        elif "mention" in class_names or (text.startswith("@") and " " not in text and target):
            self._out.append(self._mention(text, target))
        elif not target:
            self._out.append(text)
        elif not text or _same_place(text, target):
            self._out.append(target)
        else:
            self._out.append(f"{text} ({target})")

    def _mention(self, text: str, href: str) -> str:
        full = self._mentions.get(href)
        if full:
            return "@" + full
        name = text.lstrip("@")
        if "@" in name or not name:
            return text
        host = urlsplit(href).netloc if href else self._local_host
        return f"@{name}@{host}" if host else text


# ----------------------------------------------------------------------------------------------------- mentions

_WRITTEN_MENTION = re.compile(r"(?<![\w/@])@([\w.-]+(?:@[\w.-]+(?::\d+)?)?)")


def mention_first(text: str, acct: str, *, local_domains: tuple[str, ...] = ()) -> str:
    """``text`` naming ``acct`` (as Mastodon gives it: ``user`` on this server, ``user@host`` elsewhere), with
    ``@acct`` put in front when the owner did not already write it; a local account may be written with any of
    ``local_domains``."""
    names = {acct.lower()}
    if "@" not in acct:
        names |= {f"{acct}@{domain}".lower() for d in local_domains for domain in (d, d.split(":")[0])}
    written = {m.lower().rstrip(".") for m in _WRITTEN_MENTION.findall(text)}
    return text if names & written else f"@{acct} {text}"


# ----------------------------------------------------------------------------------------------------- length

_URL = re.compile(r"(?<![\w/@.])https?://[^\s<>\"'`]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![=/\w])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?)", re.IGNORECASE)
_URL_TRAILING_PUNCTUATION = ".,:;!?)]}'\""


def _graphemes(text: str) -> int:
    """An approximation of user-perceived characters, as Mastodon counts them (``each_grapheme_cluster``).

    Combining marks, variation selectors, skin-tone modifiers and anything joined by ZWJ extend the character
    before them; a pair of regional indicators (a flag) is one character.
    """
    count = 0
    joined = False
    regional_pending = False
    for char in text:
        code = ord(char)
        if joined:
            joined = False
            continue
        if char == "\u200d":
            joined = count > 0
            continue
        if unicodedata.combining(char) or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF \
                or 0xE0020 <= code <= 0xE007F:
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            if regional_pending:
                regional_pending = False
                continue
            regional_pending = True
        else:
            regional_pending = False
        count += 1
    return count


def status_length(text: str, *, url_length: int = 23) -> int:
    """The length Mastodon checks against ``max_characters``: every http(s) URL counts ``url_length`` characters
    and a mention counts only its ``@username`` part, not the server."""

    def url(match: re.Match[str]) -> str:
        value = match.group(0)
        stripped = value.rstrip(_URL_TRAILING_PUNCTUATION)
        return "x" * url_length + value[len(stripped):]

    countable = _URL.sub(url, text)
    countable = _MENTION.sub(lambda m: "@" + m.group(2), countable)
    return _graphemes(countable)
