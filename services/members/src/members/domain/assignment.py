"""Which account manager a VIP gets.

The managers covering the customer's community are the candidates. Managers of the customer's
home store come first, so that the store manager who sees the customer also sees the manager's
work; among them the one with the fewest assigned customers wins, and ties go to the smallest
staff id, so the same situation always gives the same answer (replays, two replicas).

A new VIP is welcomed by SMS with their manager's name once per promotion (`welcome_owed`).
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    manager_id: str
    store_id: str
    load: int  # customers currently assigned to this manager


def choose_manager(candidates: Sequence[Candidate], home_store_id: str | None, exclude: str | None = None) -> str | None:
    """The manager to assign, or None when nobody covers the community (`exclude`: a manager
    who is leaving or being replaced)."""
    eligible = [c for c in candidates if c.manager_id != exclude]
    if not eligible:
        return None
    best = min(eligible, key=lambda c: (c.store_id != home_store_id, c.load, c.manager_id))
    return best.manager_id


def welcome_owed(*, tier_imported: bool, welcomed: bool) -> bool:
    """Whether a VIP getting a manager is sent the welcome: once per promotion, and never for a
    promotion reached through a chain's past sales loaded by an import, which the old system
    celebrated already (the manager is assigned all the same, for the staff's work)."""
    return not tier_imported and not welcomed
