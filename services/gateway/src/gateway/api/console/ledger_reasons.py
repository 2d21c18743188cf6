"""Why points moved, as the customer's page shows each entry of the points ledger. Points writes
the reasons it makes itself in English for its API ("purchase S001/T1", "gift g1 at S001", with
notes in brackets: "(capped at 5000 points a sale)"); the staff reading the page are told them in
their language, worded like the refusals of the forms (`refusals.Wording`). A reason staff typed
(an adjustment, a bonus) or one not known here is shown as written."""

import re

from gateway.api.console.i18n import N_
from gateway.api.console.refusals import Gettext, Wording

KNOWN = (
    Wording(N_("purchase %(ref)s"), r"purchase (?P<ref>\S+)"),
    Wording(N_("return %(ref)s of sale %(sale)s"), r"return (?P<ref>\S+) of sale (?P<sale>\S+)"),
    Wording(N_("gift %(gift)s at %(store)s"), r"gift (?P<gift>\S+) at (?P<store>\S+)"),
    Wording(N_("cancelled gift %(gift)s: %(why)s"), r"cancelled gift (?P<gift>\S+): (?P<why>.*)"),
    Wording(N_("points valid until %(date)s expired"), r"points valid until (?P<date>\S+) expired"),
    Wording(N_("complaint compensation"), r"complaint compensation"),
)
# The notes points adds in brackets after a purchase or a return.
NOTES = (
    Wording(N_("imported without points"), r"imported without points"),
    Wording(N_("below the minimum sale amount"), r"below the minimum sale amount"),
    Wording(N_("capped at %(cap)s points a sale"), r"capped at (?P<cap>\d+) points a sale"),
    Wording(N_("the goods earned %(earned)s; %(expired)s of the sale's points had already expired"),
            r"the goods earned (?P<earned>\d+); (?P<expired>\d+) of the sale's points had already expired"),
)
_NOTE = re.compile(r" \(([^()]*)\)$")


def _worded(text: str, wordings: tuple[Wording, ...], gettext: Gettext) -> str | None:
    for wording in wordings:
        if found := wording.pattern.fullmatch(text):
            return wording.say(found.groupdict(), gettext)
    return None


def ledger_reason(reason: str, gettext: Gettext) -> str:
    text, notes = reason.strip(), list[str]()
    while (note := _NOTE.search(text)) and (worded := _worded(note.group(1), NOTES, gettext)) is not None:
        notes.insert(0, worded)
        text = text[: note.start()]
    if (main := _worded(text, KNOWN, gettext)) is None:
        return reason
    return main + "".join(gettext(" (%(note)s)") % {"note": n} for n in notes)
