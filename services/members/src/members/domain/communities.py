"""How free-text community names and addresses become keys.

Customers and staff write the same place many ways: full-width digits, spaces, with or without
the "小区" suffix. Keys are compared after NFKC normalisation (full-width -> half-width), removing
whitespace and case, and dropping a trailing 小区; anything beyond that ("阳光花园" vs "阳光花园一期")
is a business decision recorded as an explicit alias by staff, never guessed.
"""

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_SUFFIXES = ("小区",)


def _normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def community_key(name: str) -> str:
    key = _normalise(name)
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key


def address_key(address: str) -> str:
    """One household per distinct address inside a community."""
    return _normalise(address)


def household_moves(merged: dict[str, str], survivor: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """How the households of a merged community join the survivor's.

    Both arguments map household id -> address key. An address the survivor already has is the same
    household written under the other name, so it joins that household (old id -> survivor's id);
    every other household moves across as it is. Returns (joins, moves).
    """
    by_address = {key: household for household, key in survivor.items()}
    joins = {household: by_address[key] for household, key in merged.items() if key in by_address}
    moves = [household for household in merged if household not in joins]
    return joins, moves
