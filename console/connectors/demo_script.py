"""The demo network's cast and lines: who the bakery's customers are and what they say.

Pure data, kept apart from the simulation so the words can be edited without reading any of the mechanics.
Placeholders: ``{name}`` (the customer's first name, in business replies), ``{order}`` (an order number). Mentions
are added by the simulation, because each network writes them differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BUSINESS_NAME = "Crumb & Co"
BUSINESS_HANDLE = "crumbandco"
NETWORKS = ("mastodon", "bluesky", "x")


class Tier(StrEnum):
    """Audience size bands; the simulation draws each customer's exact follower count within their band."""

    BIG = "big"  # 50,000 and up: a food critic, a local paper, a chef with a TV slot
    MID = "mid"  # 1,000 to 20,000
    EDGE = "edge"  # 500 to 999
    LOW = "low"  # under 500: most people


@dataclass(frozen=True, slots=True)
class Persona:
    handle: str
    name: str
    network: str
    tier: Tier


def _cast(network: str, rows: str) -> tuple[Persona, ...]:
    people = []
    for line in rows.strip().splitlines():
        handle, name, tier = (part.strip() for part in line.split("|"))
        people.append(Persona(handle, name, network, Tier(tier)))
    return tuple(people)


PERSONAS: tuple[Persona, ...] = (
    _cast(
        "mastodon",
        """
        harbourcityeats | Harbour City Eats | big
        maya_bakes      | Maya Rahman       | mid
        tomfromthemill  | Tom Whitlock      | mid
        jo_reads        | Jo Kettering      | edge
        ines_cycles     | Inês Duarte       | edge
        yulia_s         | Юлия Соколова     | low
        bramble         | Bram de Vries     | low
        kit_oakes       | Kit Oakes         | low
        priya_gardens   | Priya 🌻          | low
        dan_codes       | Dan Mbeki         | low
        helenwalks      | Helen Park        | low
        ollie_v         | Ollie Vance       | low
        saoirse         | Saoirse Byrne     | low
        marco_p         | Marco Pellegrini  | low
        ruthie          | Ruth Adeyemi      | low
        felix_n         | Felix Nakamura    | low
        """,
    )
    + _cast(
        "bluesky",
        """
        chefanaruiz     | Chef Ana Ruiz     | big
        thedailyloaf    | The Daily Loaf    | mid
        sam_k           | Sam Kowalski      | mid
        leafandlatte    | Leaf & Latte Café | edge
        gretchen_h      | Gretchen Hale     | edge
        noor_a          | Noor Aziz         | low
        billy_t         | Billy Tran        | low
        zoe_m           | Zoë Martin        | low
        caspar          | Caspar Lindqvist  | low
        nadia_w         | Nadia Wolff       | low
        amir_bakes      | Amir Haddad       | low
        lou_r           | Lou Rossi         | low
        bea_c           | Bea Carvalho      | low
        george_o        | George Osei       | low
        hana_y          | Hana Yoshida      | low
        eddie_m         | Eddie Morgan      | low
        """,
    )
    + _cast(
        "x",
        """
        cityherald_food | City Herald Food  | big
        rachelfeeds     | Rachel Ong        | big
        big_jim_bbq     | Jim Kerrigan      | mid
        mumof3_mel      | Mel Hughes        | mid
        pete_runs       | Pete Sandoval     | edge
        lena_k          | Lena Krause       | edge
        aisha_d         | Aisha Diallo      | low
        connor_mc       | Connor McBride    | low
        fiona_g         | Fiona Grant       | low
        raj_p           | Raj Patel         | low
        sofie_l         | Sofie Larsen      | low
        mike_w          | Mike Walsh        | low
        tess_b          | Tess Brennan      | low
        omar_f          | Omar Farouk       | low
        ivy_c           | Ivy Chen          | low
        luke_d          | Luke Doyle        | low
        """,
    )
)


class Kind(StrEnum):
    COMPLAINT = "complaint"
    QUESTION = "question"
    PRAISE = "praise"
    DM = "dm"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One conversation topic: how a customer opens it, how the business first answers, how the customer goes on."""

    kind: Kind
    openers: tuple[str, ...]
    replies: tuple[str, ...]
    followups: tuple[str, ...]


SCENARIOS: tuple[Scenario, ...] = (
    # -- complaints ---------------------------------------------------------------------------------------------
    Scenario(
        Kind.COMPLAINT,
        ("Bought a sourdough this morning and it was rock hard by lunch. Tasted like yesterday's bread sold as "
         "today's. Not what I expect for $8.",
         "Is the rye meant to be this dry? Bought it two hours ago and it's already like a brick."),
        ("Hi {name}, sorry, that's not the loaf we want anyone taking home. Everything on the shelf is baked that "
         "morning, so something went wrong. Could you DM us roughly when you bought it? We'd like to replace it.",),
        ("It was around 8:30. Thanks for getting back to me.", "Appreciate it, will DM you now."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Pre-ordered three dozen bagels for an office breakfast at 8. Collected them at 8:40 after standing at "
         "the counter. The meeting started without food.",
         "Order {order} was promised for 10. It's 11:15 and still 'being prepared'. Come on."),
        ("That's on us, {name}, and we're sorry. We had an oven down this morning and should have called you. "
         "We'd like to refund the order in full; can you DM us the order number?",),
        ("Thanks. Order {order}.", "A refund would be good, thanks. It was embarrassing in front of a client."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Not to be that person, but the guy at the till rolled his eyes when I asked what was vegan. "
         "Just tell me, it's fine.",
         "Staff on Saturday afternoon were really short with my mum, who is in her 80s and a bit slow with her "
         "card. Not a nice look."),
        ("We're sorry, {name}. Nobody should be made to feel like that at our counter, and we'll talk to the team "
         "today. Thank you for telling us rather than just not coming back.",),
        ("Thanks. I do like the place, which is why I said something.", "Ok. Appreciate that."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Picked up my dad's 70th birthday cake. It says 'Happy 17th'. We laughed eventually, but still.",
         "Ordered a lemon drizzle for a colleague's leaving do, got carrot cake. She's allergic to walnuts."),
        ("Oh no, {name}, we're so sorry. That's a mix-up on our side. Please DM us; we'll refund it and we'd love "
         "to make it right with a proper one.",),
        ("It's ok, nobody ate it luckily. DMing you.", "Thanks. Honestly a refund is enough."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Found a bit of baking paper inside my cinnamon roll. Lucky I noticed before my kid bit into it.",
         "There was a hair baked into my focaccia. Really put me off."),
        ("That's not acceptable and we're sorry, {name}. Could you DM us a photo and when you bought it? We're "
         "checking the batch with the team now.",),
        ("Sent the photo.", "Thanks for taking it seriously."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Delivery marked as delivered at 11. Nothing at my door, nothing with the neighbours. Order {order}.",
         "Got charged twice for one order yesterday. Order {order}. Who do I talk to?"),
        ("Sorry about this, {name}. We've found the order and we're looking into it now. We'll DM you within "
         "the hour.",),
        ("Ok, thanks.", "Still nothing, but thanks for the reply."),
    ),
    Scenario(
        Kind.COMPLAINT,
        ("Sign on the door says open till 6. Got there at 5:20, shutters down. Third time this month.",
         "Queued 25 minutes on Sunday and they ran out of croissants while I was in line. Maybe bake more?"),
        ("Sorry {name}, that's frustrating. We sold out earlier than expected and should have said so. From now "
         "on we'll post an update on the door and here whenever that happens.",),
        ("A post here would help, yes.", "Fair enough. Sold out is a nice problem to have I guess."),
    ),
    # -- questions ------------------------------------------------------------------------------------------------
    Scenario(
        Kind.QUESTION,
        ("Are you open on the bank holiday Monday? Want to grab hot cross buns 🙏",
         "What time do you close on Sundays?"),
        ("Hi {name}! We're open 8 to 2 on Sundays and bank holidays.",),
        ("Perfect, thank you!", "Great, see you then 🙂"),
    ),
    Scenario(
        Kind.QUESTION,
        ("Do you do anything gluten-free? Coeliac here and I miss proper bread.",
         "Any gluten-free options that are actually safe for coeliacs, or just 'gluten-free ingredients'?"),
        ("Hi {name}, we bake a gluten-free loaf and brownies on Thursdays, in a separate slot with cleaned "
         "surfaces, but the kitchen isn't certified gluten-free, so we can't promise zero traces.",),
        ("Thanks for being honest about it. I'll give the brownies a go.", "Ah, shame. Thanks anyway!"),
    ),
    Scenario(
        Kind.QUESTION,
        ("Does the pistachio croissant contain sesame? My son is allergic.",
         "Do the seeded loaves have mustard seeds? Asking for an allergy."),
        ("Hi {name}, the full allergen sheet for every item is at the counter and on our site. That one doesn't "
         "contain it, but it's made in a kitchen that handles it, so please check with the team in person.",),
        ("Thank you, that's really helpful.", "Thanks, I'll check the sheet next time I'm in."),
    ),
    Scenario(
        Kind.QUESTION,
        ("Do you deliver to Riverside? Or is it collection only?",
         "Can I get a delivery before 8am? Surprise breakfast for my partner."),
        ("Hi {name}, we deliver within 3 miles, 9am to 5pm, Tuesday to Saturday.",),
        ("Brilliant, ordering now.", "Ah, 9 is too late for me, but good to know."),
    ),
    Scenario(
        Kind.QUESTION,
        ("How far ahead do I need to order a custom cake for about 20 people?",
         "Can you do a birthday cake with a photo printed on it?"),
        ("Hi {name}, give us five days for custom cakes; we can do most designs, photos included.",),
        ("Great. Do you need a deposit?", "Perfect, I'll pop in Saturday to order."),
    ),
    Scenario(
        Kind.QUESTION,
        ("Is the chocolate babka vegan? Looks amazing.",
         "Do you have oat milk for the coffee?"),
        ("Hi {name}! Not yet, but the vegan version is on the counter on Fridays. Oat milk every day.",),
        ("Friday it is.", "Thanks!"),
    ),
    Scenario(
        Kind.QUESTION,
        ("Do you supply cafés? We're opening a small coffee cart in the spring.",),
        ("Hi {name}, we do wholesale for a handful of cafés. Email hello@crumb.example and we'll send the list.",),
        ("Amazing, I'll email today.", "Great, thank you!"),
    ),
    Scenario(
        Kind.QUESTION,
        ("Can I bring my dog inside or is it outside seating only?",),
        ("Hi {name}, well-behaved dogs are welcome inside. There's a water bowl by the door.",),
        ("She's mostly well-behaved 😄", "Perfect, see you Saturday."),
    ),
    # -- praise ---------------------------------------------------------------------------------------------------
    Scenario(
        Kind.PRAISE,
        ("The cardamom buns are unreal. Walked 20 minutes in the rain and would do it again ☔🥐",
         "Best rye in town. That's it, that's the post."),
        ("Thank you {name}, that made the morning shift's day!",),
        ("❤️", "Keep doing what you're doing!"),
    ),
    Scenario(
        Kind.PRAISE,
        ("Shout-out to the team who stayed late so I could collect my wedding cake. Absolute legends.",
         "Took my nan in for her birthday and the staff sang to her. She hasn't stopped talking about it."),
        ("This is lovely to read, {name}. We'll pass it on to the team!",),
        ("Thank YOU.", "Already planning my next visit."),
    ),
    Scenario(
        Kind.PRAISE,
        ("Sourdough plus good butter is my entire personality now.",
         "The new gluten-free brownie is the first GF thing I've had that doesn't taste of sadness."),
        ("Ha! We'll take that, {name}. Thank you!",),
        ("Seriously, don't change the recipe.", "Already planning my next visit."),
    ),
    # -- direct messages ------------------------------------------------------------------------------------------
    Scenario(
        Kind.DM,
        ("Hi! I have a collection on Saturday (order {order}). Could I move it to 11 instead of 9?",
         "Hello, can I add two baguettes to my order {order} for tomorrow?"),
        ("Hi {name}, no problem, that's changed for you.",),
        ("Thank you so much.", "Great, that works."),
    ),
    Scenario(
        Kind.DM,
        ("Hi, a private question: my daughter has a severe nut allergy. Do you bake nut products in the same "
         "kitchen?",),
        ("Hi {name}, thanks for asking privately. Yes, we handle nuts in the same kitchen, so we can't guarantee "
         "anything is nut-free. We'd rather be clear than sorry.",),
        ("Understood, thank you for being straight with me.",),
    ),
    Scenario(
        Kind.DM,
        ("Hello, I was charged for a cake I cancelled (order {order}). Can you refund it please?",),
        ("Hi {name}, sorry about that. The refund for {order} is issued and should land in 3 to 5 days.",),
        ("Ok, thank you.", "Great, thanks for sorting it quickly."),
    ),
    Scenario(
        Kind.DM,
        ("Didn't want to post this publicly, but the staff member on Saturday morning was quite rude to my "
         "father. He's 84.",),
        ("Hi {name}, thank you for telling us, and we're sorry. That isn't how we want anyone treated; we're "
         "talking to the team today.",),
        ("Thank you. He'll still be back, he loves the rye.",),
    ),
    Scenario(
        Kind.DM,
        ("Hi there, we're planning a 60-person company lunch on the 14th. Could you do sandwiches and pastries? "
         "Budget around 600.",
         "Hi! Are you hiring weekend staff? I worked two years at a bakery in Lisbon."),
        ("Hi {name}, thanks for thinking of us! Could you email hello@crumb.example with the details? Sam looks "
         "after these and will come back to you by tomorrow.",),
        ("Great, emailing now.", "Sent! Thank you."),
    ),
)

# Lines that fit any scenario of a kind, keyed by kind.
NUDGES: dict[Kind, tuple[str, ...]] = {
    Kind.COMPLAINT: ("Still no reply. Great.", "Anyone actually reading these?",
                     "Update: called the shop too, no answer."),
    Kind.QUESTION: ("Anyone? Need to know before Friday.", "Bumping this, need to order soon!"),
    Kind.PRAISE: ("Also, the coffee. Don't sleep on the coffee.", "(Not sponsored, I just really like bread.)"),
    Kind.DM: ("Hi, just following up on the above.", "Any news?"),
}
BUSINESS_FOLLOWUPS: dict[Kind, tuple[str, ...]] = {
    Kind.COMPLAINT: ("Thank you for bearing with us, {name}. It's sorted on our side now.",
                     "Thanks {name}. We've passed this on, and there's a treat with your name on it next visit.",
                     "Got your DM, replying there now."),
    Kind.QUESTION: ("Happy to help!", "Any time, {name}!", "See you soon!"),
    Kind.PRAISE: ("🥐❤️", "See you soon, {name}!"),
    Kind.DM: ("Thanks {name}, all noted here.", "Any other questions, just ask.", "Anytime, {name}."),
}
CLOSERS: tuple[str, ...] = ("Thanks!", "👍", "Legends.", "Cheers.", "Great, thank you.")
CHIME_INS: dict[Kind, tuple[str, ...]] = {
    Kind.COMPLAINT: ("Same thing happened to me last week.", "Oh no. They're usually great, hope they sort it.",
                     "Had the opposite experience for what it's worth, staff were lovely."),
    Kind.QUESTION: ("Also want to know this!", "They do! I got some last week."),
    Kind.PRAISE: ("Seconded. The cardamom buns are dangerous.", "Agree 100%.", "Going tomorrow because of this."),
}
SIGNATURES: tuple[str, ...] = ("", "", "", " – Sam", " – Priya", " – Dev at Crumb & Co")

# The complaint that snowballs once a big account reshares it.
SNOWBALL_OPENER = (
    "Ordered a birthday cake for my daughter's 6th. Picked it up: wrong name, wrong flavour, and we were told "
    "'that's what the form said'. It didn't. She cried. Not ok. 😞"
)
SNOWBALL_RESHARE = "Not great. Hope they make this right for her. 👇"
SNOWBALL_CHIME_INS: tuple[str, ...] = (
    "Same happened with our wedding cake in the spring.",
    "That poor kid. Come on.",
    "Wow. Used to love this place.",
    "Hope they reply soon, this is blowing up.",
    "Show us the form!",
    "Their bread is still great though, to be fair.",
)

# -- brand watch ------------------------------------------------------------------------------------------------------
# People talking about the bakery without tagging it: by name, a product, its street. The demo's default watch words
# (``demo.DEMO_WATCH_TERMS``) find them; each line names at least one of them as whole words.
BUSINESS_STREET = "Mill Lane"
WATCH_LINES: tuple[str, ...] = (
    "Finally tried the pistachio croissant from Crumb & Co. Worth every minute of the queue.",
    "If you're near Mill Lane before nine, the sourdough at Crumb & Co is still warm. You're welcome.",
    "Crumb and Co did our wedding cake and people are still talking about it 🎂",
    "New Saturday ritual: pistachio croissant, flat white, the bench on Mill Lane.",
    "Is it just me or has the pistachio croissant at Crumb & Co got smaller? Still great, but.",
    "#crumbandco cinnamon knots are back and I have no self-control",
    "Whoever does the window display at Crumb & Co deserves a raise.",
    "Crumb & Co sold out of rye by ten again. Setting an alarm for tomorrow.",
    "Le croissant pistache de Crumb & Co, c'est une affaire d'État 🥐",
    "The new opening hours at Crumb & Co are a game changer for early-shift people like me.",
    "Crumb & Co ran out of oat milk at 8:30 on a Tuesday. How.",
    "Three visits to Crumb & Co this week. This is a cry for help (send cardamom buns).",
)
# Customers answering each other: the question names nothing (a watch never sees it), the answer names the bakery.
WATCH_CONVERSATIONS: tuple[tuple[str, str], ...] = (
    ("Anyone know a good place for a birthday cake in town? Need it by Friday.",
     "Crumb & Co on Mill Lane! They did my daughter's and it was perfect."),
    ("Where's the best sourdough around here? Asking for a hungry friend.",
     "Crumb & Co on Mill Lane, no contest. Go early."),
    ("Need a coffee-and-pastry spot for a first date. Ideas?",
     "The pistachio croissant at Crumb & Co has never let anyone down."),
)
# Later customers answering a post that named the bakery, naming it again.
WATCH_REPLIES: tuple[str, ...] = (
    "Same here! Crumb & Co never misses.",
    "Crumb & Co's cardamom buns though 😍",
    "Agreed, and the pistachio croissant is even better warm.",
)
# What the demo watch must leave out: the street in a story that is not about the bakery (its excluded word), the
# bakery's own post, and a followers-only post.
WATCH_UNRELATED = "Mill Lane roadworks again. Buses diverted until Friday, apparently."
WATCH_OWN = "Fresh pistachio croissants out of the oven at Crumb & Co, Mill Lane. Come and get them!"
WATCH_PRIVATE = "Crumb & Co staff do the best latte art. Don't tell them I said so."
