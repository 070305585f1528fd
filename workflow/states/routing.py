"""Where an item goes next on its route (DOMAIN §8): the 上部庁議 named vs the reviews passed.

An item's route is the ordered list of kinds it passes (関係課長会議 → 事務事業調整会議 →
政策調整会議). ``forwarded`` names the 上部庁議 (a ladder kind further on the route); the item
then awaits the next kind of its route: a review kind between the meeting just held and the
named kind first, then the named kind. Ladder kinds in between are skipped: forwarding to
政策調整会議 from 関係課長会議 passes over a 局・区政策会議 the route also lists.

Pure functions of codes, so the rule is tested without a database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence


def passed_position(route: Sequence[str], kinds: Collection[str]) -> int:
    """The furthest position on *route* of the kinds a meeting sat as (-1: none on the route).

    A joint sitting (関係課長会議兼事務事業調整会議) passes both its kinds.
    """
    positions = [i for i, kind in enumerate(route) if kind in kinds]
    return max(positions, default=-1)


def next_kind(
    route: Sequence[str], kinds: Collection[str], forward_to: str, reviews: Collection[str]
) -> str:
    """The kind an item forwarded to *forward_to* by a meeting of *kinds* awaits next.

    *forward_to* must be on the route after the meeting (:func:`forward_targets` lists them).
    """
    start = passed_position(route, kinds) + 1
    stop = route.index(forward_to)
    for kind in route[start:stop]:
        if kind in reviews:
            return kind
    return forward_to


def forward_targets(
    route: Sequence[str], kinds: Collection[str], reviews: Collection[str]
) -> list[str]:
    """The kinds a meeting of *kinds* may name as 上部庁議: the ladder kinds after it on the route."""
    start = passed_position(route, kinds) + 1
    return [kind for kind in route[start:] if kind not in reviews]
