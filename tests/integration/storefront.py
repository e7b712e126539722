"""A small shop's week on Mastodon, played out by real accounts on the test server.

Four customers follow the shop and each other, mention it, talk among themselves under its threads, boost and
favourite, and one writes privately. What the shop must see is written down here by hand (``threads``), and the
tests also derive it from the server (``Storefront.expected_threads``), so a mistake in either shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mastodon_world import MastodonMock, Person, Status


@dataclass
class Storefront:
    server: MastodonMock
    shop: Person
    ann: Person
    ben: Person
    cat: Person
    dan: Person
    # Thread 1: Ann's complaint, customers talking under it, the shop answering, Ann thanking (the shop's turn).
    order_late: Status = field(default_factory=dict)
    same_here: Status = field(default_factory=dict)  # Ben to Ann: does not mention the shop, so no notification
    me_too: Status = field(default_factory=dict)  # Cat to Ben, deeper still
    shop_sorry: Status = field(default_factory=dict)
    thanks: Status = field(default_factory=dict)
    # Thread 2: Dan mentions the shop in a reply to his own earlier post, so the thread's root is not a mention.
    coffee: Status = field(default_factory=dict)
    deliver: Status = field(default_factory=dict)
    # Thread 3: praise the shop has answered (nothing to do).
    praise: Status = field(default_factory=dict)
    shop_welcome: Status = field(default_factory=dict)
    # Thread 4: a private message.
    address_dm: Status = field(default_factory=dict)
    # Never in the inbox: an unrelated post, and the boosts themselves (they are counts, not posts).
    noise: Status = field(default_factory=dict)
    boosts: list[Status] = field(default_factory=list)

    @property
    def customers(self) -> list[Person]:
        return [self.ann, self.ben, self.cat, self.dan]

    @property
    def mentions(self) -> list[Status]:
        """The statuses that notify the shop of a mention."""
        return [self.order_late, self.thanks, self.deliver, self.praise, self.address_dm]

    @property
    def threads(self) -> dict[str, list[Status]]:
        """By hand: each conversation's root id and its posts."""
        return {
            self.order_late["id"]: [self.order_late, self.same_here, self.me_too, self.shop_sorry, self.thanks],
            self.coffee["id"]: [self.coffee, self.deliver],
            self.praise["id"]: [self.praise, self.shop_welcome],
            self.address_dm["id"]: [self.address_dm],
        }

    @property
    def needs_reply(self) -> dict[str, bool]:
        return {
            self.order_late["id"]: True,  # Ann thanked after the shop's answer: a customer spoke last
            self.coffee["id"]: True,
            self.praise["id"]: False,  # the shop answered last
            self.address_dm["id"]: True,
        }

    def expected_threads(self) -> dict[str, list[Status]]:
        """The same, as the server reports it now: every mention's ancestors and descendants, by root."""
        threads: dict[str, dict[str, Status]] = {}
        for mention in self.mentions:
            whole = self.server.whole_thread(mention["id"], self.shop)
            threads.setdefault(whole[0]["id"], {}).update({s["id"]: s for s in whole})
        return {root: list(posts.values()) for root, posts in threads.items()}


def open_storefront(server: MastodonMock) -> Storefront:
    shop = server.person("shop", "Corner Bakery")
    ann, ben, cat, dan = (server.person(n) for n in ("ann", "ben", "cat", "dan"))
    world = Storefront(server, shop, ann, ben, cat, dan)

    for customer in world.customers:
        customer.follow(shop)
    for follower in (ben, cat, dan):
        follower.follow(ann)
    cat.follow(ben)
    shop.follow(ann)

    world.order_late = ann.mentioning(shop, "my order #1042 still hasn't arrived, it's been two weeks")
    world.same_here = ben.reply(world.order_late, "same here, mine is late too", to=ann)
    world.me_too = cat.reply(world.same_here, "and mine! starting to worry", to=ben)
    world.shop_sorry = shop.reply(world.order_late, "so sorry! a courier strike; it ships tomorrow", to=ann)
    world.thanks = ann.reply(world.shop_sorry, "thanks for the quick answer! tracking number please?", to=shop)

    world.coffee = dan.post("Looking for a bakery that delivers to the office on Fridays")
    world.deliver = dan.reply(world.coffee, "do you deliver to Market Street?", to=shop)

    world.praise = cat.mentioning(shop, "best sourdough & rye in town, thank you")
    world.shop_welcome = shop.reply(world.praise, "thank you, see you Saturday!", to=cat)

    world.address_dm = ben.message(shop, "here is my new address for the order: 12 Elm Row")
    world.noise = ann.post("What a lovely sunny day")

    world.boosts = [ben.boost(world.order_late), dan.boost(world.order_late), dan.boost(world.shop_sorry),
                    ann.boost(world.praise)]
    for fan, status in ((cat, world.order_late), (dan, world.order_late), (ann, world.shop_sorry),
                        (ann, world.praise), (ben, world.praise), (cat, world.deliver)):
        fan.favourite(status)
    return world
