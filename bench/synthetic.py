"""A deterministic synthetic inbox with the shape of a real one.

Real inboxes are lopsided, and the lopsidedness is what stresses the store: a few authors write a lot and have huge
audiences, a few threads run long, the business's own account appears in nearly every page, and text follows a
Zipf curve so some words are in a tenth of all posts while most appear once or twice. Uniform data would hide the
slow paths (per-author aggregates, common-word searches), so this module reproduces those tails on purpose.

Rows are kept as plain tuples in the column order of the store's upserts: compact enough that 200,000 posts stay
cheap in memory, and usable unchanged by the raw-SQLite baseline. Domain records are built from them per batch.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from console.domain import Account, Author, Batch, Direction, Post, Visibility

YEAR_START = 1_735_689_600  # 2025-01-01T00:00:00Z
YEAR_SECONDS = 365 * 24 * 3600
END_OF_DATA = YEAR_START + YEAR_SECONDS

NETWORKS = ("mastodon", "bluesky", "x")
# The shape: 1,000,000 posts in 200,000 threads from 100,000 authors, with one thread of 500 posts.
POSTS_PER_THREAD = 5
POSTS_PER_AUTHOR = 10
LONGEST_THREAD = 500
ACTIVITY_CAP = 150.0
# Share of threads per network: most small businesses have one big network and two quieter ones.
NETWORK_WEIGHTS = (0.5, 0.3, 0.2)

# Words owners really search for sit at the top of the frequency curve; the rest of the vocabulary is pseudo-words.
COMMON_WORDS = (
    "the a to and i you my is it for of in on this that order was with your have but not be just me so are we "
    "can at please thanks delivery refund help still when what how no get any do from will today they been"
    " package shipping store service customer support account payment card app update email phone problem issue "
    "week day time product price size colour box item return exchange wrong broken late missing tracking number "
    "love great awesome terrible disappointed waiting answer reply team staff manager shop website login password "
    "discount coupon code sale offer stock available new old again never always since days hours weeks months "
    "replacement receipt invoice charged twice cancel cancelled subscription plan upgrade downgrade battery screen "
    "charger cable warranty repair courier parcel address postcode door neighbour signed photo picture video"
).split()
SYLLABLES = (
    "ka lo mi re su ta ne po vi da ge hu zo bi fa ru le mo ni sa te ko pu va di ze ro ma li nu so be ga hi jo "
    "kri plo stra vel dor mun tesh quin bor lax"
).split()
FIRST_NAMES = (
    "Alex Sam Jo Maria Chen Aisha Tom Lena Ravi Ines Omar Yuki Nora Pablo Greta Kofi Mila Ivan Zoe Hugo Ana Lars "
    "Priya Femi Sara Noah Eva Luca Hana Amir"
).split()
LAST_NAMES = (
    "Smith Garcia Mueller Rossi Tanaka Okafor Silva Novak Dubois Jensen Kowalski Haddad Kim Nguyen Costa Berg "
    "Ahmed Moreau Lopez Fischer Ivanova Park Murphy Singh"
).split()


_TOKEN = re.compile(r"[^\W_]+")


def iso_seconds(epoch: int) -> str:
    """The store's canonical timestamp form for a whole-second epoch (fast path for 400k timestamps)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


@dataclass(frozen=True, slots=True)
class SyntheticInbox:
    """Everything the benchmark inserts, plus what it needs to know to pick query targets."""

    accounts: tuple[Account, ...]
    business_author_ids: frozenset[str]
    # Author rows: (id, network, handle, display_name, followers, following, posts_count, url, observed_at).
    authors: list[tuple]
    # Post rows in the store's upsert column order, sorted by created_at:
    # (id, network, account_id, thread_id, parent_id, author_id, url, text, created_at, observed_at,
    #  reshare, quote, like, reply, visibility, direction).
    posts: list[tuple]
    # thread id -> (last activity epoch, post count), to choose statuses and threads to open.
    threads: dict[str, tuple[int, int]]
    word_document_counts: Counter

    def search_terms(self) -> dict[str, list[str]]:
        """Words to search for, chosen from the data rather than hard-coded so any ``--posts`` gets the same mix.

        ``common``: in about 10%, 5% and 2% of posts. ``rare``: a word in a handful of posts, one in a single post,
        an order number. ``stopword``: the most frequent word, rarely searched alone but the worst case.
        ``typed``: the most frequent word of six letters or more, to type letter by letter.
        """
        total = len(self.posts)
        by_count = sorted(
            ((word, count) for word, count in self.word_document_counts.items() if not word.isdigit()),
            key=lambda item: (item[1], item[0]),
        )
        counts = [count for _, count in by_count]

        def nearest(target: float) -> str:
            index = min(bisect.bisect_left(counts, target), len(counts) - 1)
            return by_count[index][0]

        common = [nearest(total * 0.10), nearest(total * 0.05), nearest(total * 0.02)]
        rare = [nearest(5), nearest(1)]
        numbers = sorted(word for word, count in self.word_document_counts.items() if word.isdigit() and count == 1)
        if numbers:
            rare.append(numbers[len(numbers) // 2])
        typed = next((word for word, _ in reversed(by_count) if len(word) >= 6), by_count[-1][0])
        return {"common": list(dict.fromkeys(common)), "rare": list(dict.fromkeys(rare)),
                "stopword": [by_count[-1][0]], "typed": [typed]}


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Real common words first (they get the top Zipf ranks), then unique pseudo-words in a seeded order."""
    words = list(dict.fromkeys(COMMON_WORDS))
    seen = set(words)
    for length in (2, 3, 4):
        for combo in itertools.product(SYLLABLES, repeat=length):
            word = "".join(combo)
            if word not in seen:
                seen.add(word)
                words.append(word)
            if len(words) >= size * 3:
                break
        if len(words) >= size * 3:
            break
    tail = words[len(COMMON_WORDS):]
    rng.shuffle(tail)
    return words[: len(COMMON_WORDS)] + tail[: size - len(COMMON_WORDS)]


def _zipf_cum_weights(size: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, size + 1)))


def _heavy_tail(rng: random.Random, alpha: float, scale: float, cap: int) -> int:
    """A Pareto draw: most values near ``scale``, a few orders of magnitude larger."""
    return min(cap, int(scale * rng.paretovariate(alpha)) - int(scale))


def _thread_sizes(rng: random.Random, posts: int, threads: int) -> list[int]:
    """Thread lengths averaging ``posts / threads``: many single posts and short exchanges, a few long threads, and
    one pile-on of ``LONGEST_THREAD`` posts (the thread the benchmark opens as its worst case)."""
    mean_extra = max(0.1, posts / threads - 1.0)
    # Log-normal with sigma 1 has the requested mean and a long right tail (the odd 100-post pile-on).
    mu = math.log(mean_extra) - 0.5
    sizes = [1 + min(LONGEST_THREAD // 2, round(rng.lognormvariate(mu, 1.0))) for _ in range(threads)]
    # The longest thread has exactly LONGEST_THREAD posts whenever the inbox can hold it (a fifth of all posts).
    longest = rng.randrange(threads)
    sizes[longest] = max(1, min(LONGEST_THREAD, posts // 5))
    # Nudge the total to exactly ``posts`` without changing the shape much.
    difference = posts - sum(sizes)
    step = 1 if difference > 0 else -1
    index = 0
    while difference:
        slot = rng.randrange(threads) if step < 0 else index % threads
        if slot != longest and (step > 0 or sizes[slot] > 1):
            sizes[slot] += step
            difference -= step
        index += 1
    return sizes


class _Customers:
    """Customer authors per network, drawn with heavy-tailed activity: a few regulars write a lot."""

    def __init__(self, rng: random.Random, count: int) -> None:
        self.rows: list[tuple] = []
        members: dict[str, list[str]] = {network: [] for network in NETWORKS}
        for index in range(count):
            network = rng.choices(NETWORKS, NETWORK_WEIGHTS)[0]
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            handle = f"{first.lower()}{last.lower()}{index}"
            author_id = f"{network}:u{index}"
            self.rows.append((
                author_id, network, handle, f"{first} {last}", _heavy_tail(rng, 1.1, 40, 5_000_000),
                _heavy_tail(rng, 1.6, 80, 20_000), _heavy_tail(rng, 1.2, 200, 500_000),
                f"https://{network}.example/@{handle}", "",
            ))
            members[network].append(author_id)
        # A network nobody was drawn for (tiny --posts) borrows the first network's people.
        self._members = {network: ids or members[NETWORKS[0]] or [self.rows[0][0]] for network, ids in members.items()}
        # The cap keeps the busiest customer near a few hundred posts a year, as a real regular; uncapped, a single
        # "customer" wrote a tenth of all posts.
        self._weights = {
            network: list(itertools.accumulate(min(ACTIVITY_CAP, rng.paretovariate(1.3)) for _ in ids))
            for network, ids in self._members.items()
        }

    def network_of(self, index: int) -> str:
        return self.rows[index][1]

    def pick(self, rng: random.Random, network: str) -> str:
        weights = self._weights[network]
        return self._members[network][bisect.bisect_left(weights, rng.random() * weights[-1])]


def _post_text(rng: random.Random, vocabulary: list[str], zipf: list[float], outgoing: bool) -> str:
    words = rng.choices(vocabulary, cum_weights=zipf, k=rng.randint(6, 40))
    text = " ".join(words).capitalize() + rng.choice((".", "!", "?", " :(", ""))
    if not outgoing and rng.random() < 0.12:
        # Order numbers: the owner's most precise search, each in one thread only.
        text += f" Order #{rng.randrange(10**6, 10**7)}"
    return text


def generate(posts: int, seed: int = 20251125) -> SyntheticInbox:
    """Build ``posts`` posts in ``posts / 5`` threads from ``posts / 10`` customers (plus the shop) across one year.

    Every customer starts at least one thread (the first threads go to each customer in a seeded order), so the
    author count is exact; the remaining threads go to customers by their heavy-tailed activity.
    """
    rng = random.Random(seed)
    accounts = tuple(
        Account(id=f"{network}:acct-shop", network=network, handle=f"shop@{network}",
                server_url=f"https://{network}.example", display_name="The Shop")
        for network in NETWORKS
    )
    shop_authors = {
        network: (f"{network}:shop", network, "shop", "The Shop", 4_200, 310, 9_000, f"https://{network}.example/@shop",
                  "")
        for network in NETWORKS
    }
    customers = _Customers(rng, max(1, posts // POSTS_PER_AUTHOR))
    first_threads = list(range(len(customers.rows)))
    rng.shuffle(first_threads)
    vocabulary = _vocabulary(rng, 60_000)
    zipf = _zipf_cum_weights(len(vocabulary), 1.1)

    post_rows: list[tuple] = []
    threads: dict[str, tuple[int, int]] = {}
    serial = itertools.count(1)
    for number, size in enumerate(_thread_sizes(rng, posts, max(1, posts // POSTS_PER_THREAD))):
        if number < len(first_threads):
            starter = customers.rows[first_threads[number]][0]
            network = customers.network_of(first_threads[number])
        else:
            network = rng.choices(NETWORKS, NETWORK_WEIGHTS)[0]
            starter = customers.pick(rng, network)
        account_id = accounts[NETWORKS.index(network)].id
        moment = YEAR_START + rng.randrange(YEAR_SECONDS - 7 * 24 * 3600)
        thread_id = f"{network}:{next(serial)}"
        parent_id = None
        for position in range(size):
            post_id = thread_id if position == 0 else f"{network}:{next(serial)}"
            # Customers start threads (a few are the shop's own announcements); about a quarter of replies are ours.
            # A customer's first thread is always theirs, so every customer is an author.
            outgoing = rng.random() < ((0.0 if number < len(first_threads) else 0.04) if position == 0 else 0.28)
            if outgoing:
                author_id = shop_authors[network][0]
            elif position == 0 or rng.random() < 0.6:
                author_id = starter
            else:
                author_id = customers.pick(rng, network)
            post_rows.append((
                post_id, network, account_id, thread_id, parent_id, author_id,
                f"https://{network}.example/p/{post_id.split(':', 1)[1]}", _post_text(rng, vocabulary, zipf, outgoing),
                iso_seconds(moment), iso_seconds(min(END_OF_DATA, moment + rng.randint(30, 900))),
                _heavy_tail(rng, 1.5, 2, 50_000), _heavy_tail(rng, 2.0, 1, 5_000), _heavy_tail(rng, 1.3, 3, 200_000),
                0, "direct" if rng.random() < 0.08 else "public", "out" if outgoing else "in",
            ))
            threads[thread_id] = (moment, position + 1)
            parent_id = post_id
            moment = min(END_OF_DATA - 1, moment + int(rng.expovariate(1 / 5400)) + 1)

    post_rows.sort(key=lambda row: (row[8], row[0]))
    document_counts: Counter = Counter()
    for row in post_rows:
        document_counts.update(set(_TOKEN.findall(row[7].lower())))
    used_authors = {row[5] for row in post_rows}
    return SyntheticInbox(
        accounts=accounts,
        business_author_ids=frozenset(row[0] for row in shop_authors.values()),
        authors=[row for row in customers.rows if row[0] in used_authors] + list(shop_authors.values()),
        posts=post_rows,
        threads=threads,
        word_document_counts=document_counts,
    )


def author_record(row: tuple, observed_at: str) -> Author:
    return Author(id=row[0], network=row[1], handle=row[2], display_name=row[3], followers_count=row[4],
                  following_count=row[5], posts_count=row[6], url=row[7], observed_at=observed_at)


def post_record(row: tuple) -> Post:
    return Post(id=row[0], network=row[1], account_id=row[2], thread_id=row[3], parent_id=row[4], author_id=row[5],
                url=row[6], text=row[7], created_at=row[8], observed_at=row[9], reshare_count=row[10],
                quote_count=row[11], like_count=row[12], reply_count=row[13], visibility=Visibility(row[14]),
                direction=Direction(row[15]))


def batches(inbox: SyntheticInbox, size: int) -> Iterator[Batch]:
    """Connector pages in arrival order: per account, ``size`` posts each, with the authors those posts reference.

    Pages of the three accounts interleave by time, as they would when the sync polls every account in turn. Each
    page carries its authors observed at the page's newest timestamp, so repeat authors are upserted again with a
    newer observation exactly as a live sync does.
    """
    authors_by_id = {row[0]: row for row in inbox.authors}
    pending: dict[str, list[tuple]] = {account.id: [] for account in inbox.accounts}
    streams = {account.id: account.network for account in inbox.accounts}

    def page(account_id: str, rows: list[tuple]) -> Batch:
        observed_at = rows[-1][9]
        author_ids = dict.fromkeys(row[5] for row in rows)
        return Batch(
            account_id=account_id,
            stream=f"{streams[account_id]}:notifications",
            posts=tuple(post_record(row) for row in rows),
            authors=tuple(author_record(authors_by_id[author_id], observed_at) for author_id in author_ids),
            cursor=rows[-1][0],
        )

    for row in inbox.posts:
        rows = pending[row[2]]
        rows.append(row)
        if len(rows) == size:
            yield page(row[2], rows)
            pending[row[2]] = []
    for account_id, rows in pending.items():
        if rows:
            yield page(account_id, rows)
