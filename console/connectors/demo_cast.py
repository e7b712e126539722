"""Who is on the demo networks, and where they live: the bakery's accounts, its customers, and their addresses.

The customers and their audience bands come from ``demo_script.PERSONAS``; each seed draws the exact follower,
following and post counts within the bands, so every seed keeps the heavy tail (a few big accounts, mostly small ones).
"""

from __future__ import annotations

import math
import random

from console.connectors.demo_script import BUSINESS_HANDLE, BUSINESS_NAME, NETWORKS, PERSONAS, Tier
from console.connectors.demo_state import AuthorState, WorldState
from console.domain.records import make_id

_HOSTS = {"mastodon": "mastodon.demo.example", "bluesky": "bsky.demo.example", "x": "x.demo.example"}


class CastMixin(WorldState):
    """Creates the cast (before anything else draws from the seed) and writes their handles and URLs."""

    def _create_cast(self, rng: random.Random) -> None:
        for network in NETWORKS:
            handle = self.network_handle(network, BUSINESS_HANDLE)
            author = AuthorState(
                make_id(network, f"demo-{BUSINESS_HANDLE}"), network, handle, BUSINESS_NAME,
                followers=rng.randint(900, 2400), following=rng.randint(150, 400), posts=rng.randint(800, 2500),
                url=self.profile_url(network, handle),
            )
            self.authors[author.id] = author
            self.business[network] = author.id
            self._touch_author(author)
        for persona in PERSONAS:
            followers = _followers_for(persona.tier, rng)
            if persona.tier is Tier.BIG:
                following = rng.randint(150, 1500)
            else:
                following = max(5, int(followers * rng.uniform(0.4, 2.5)) + rng.randint(0, 60))
            handle = self.network_handle(persona.network, persona.handle)
            author = AuthorState(
                make_id(persona.network, f"demo-{persona.handle}"), persona.network, handle, persona.name,
                followers=followers, following=following,
                posts=int(math.exp(rng.uniform(math.log(40), math.log(30_000)))),
                url=self.profile_url(persona.network, handle),
            )
            self.authors[author.id] = author
            self.customers[persona.network].append(author.id)
            self.personas[author.id] = persona
            self._touch_author(author)

    @staticmethod
    def network_handle(network: str, handle: str) -> str:
        # Bluesky handles are domain names: no underscores, and a domain after them.
        if network == "bluesky":
            return f"{handle.replace('_', '-')}.bsky.demo.example"
        return handle

    @staticmethod
    def profile_url(network: str, handle: str) -> str:
        host = _HOSTS[network]
        if network == "mastodon":
            return f"https://{host}/@{handle}"
        if network == "bluesky":
            return f"https://{host}/profile/{handle}"
        return f"https://{host}/{handle}"

    def post_url(self, network: str, handle: str, native: str) -> str:
        if network == "mastodon":
            return f"{self.profile_url(network, handle)}/{native}"
        if network == "bluesky":
            return f"{self.profile_url(network, handle)}/post/{native}"
        return f"{self.profile_url(network, handle)}/status/{native}"


def _followers_for(tier: Tier, rng: random.Random) -> int:
    """Follower counts within a band; bands are fixed per persona so every seed keeps the heavy tail."""
    if tier is Tier.BIG:
        return min(2_000_000, int(52_000 * rng.paretovariate(1.1)))
    if tier is Tier.MID:
        return int(math.exp(rng.uniform(math.log(1_000), math.log(20_000))))
    if tier is Tier.EDGE:
        return rng.randint(500, 999)
    return max(3, min(499, int(rng.lognormvariate(math.log(110), 0.9))))
