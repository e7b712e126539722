"""Answering well: canned replies, cool-off rules, the sensitive-data guard and per-network length rules.

Pure logic with an injected clock (``Callable[[], datetime]``): no Qt, no I/O beyond reading the bundled starter
library, so every rule is tested without a window or a real wait. The composer only shows the state computed here.
"""
