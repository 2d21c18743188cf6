"""Why points moved, as the customer's page shows each entry of the points ledger. Points writes
the reasons it makes itself in English for its API ("purchase S001/T1", "gift g1 at S001", with
notes in brackets: "(capped at 5000 points a sale)"), read back by `shared.ledger_reasons`; the
staff reading the page are told them in their language. A reason staff typed (an adjustment, a
bonus) or one not known there is shown as written."""

from gateway.api.console.i18n import N_
from gateway.api.console.refusals import Gettext
from shared import ledger_reasons

SAID = {
    "purchase": N_("purchase %(ref)s"),
    "return": N_("return %(ref)s of sale %(sale)s"),
    "gift": N_("gift %(gift)s at %(store)s"),
    "cancelled_gift": N_("cancelled gift %(gift)s: %(why)s"),
    "expired": N_("points valid until %(date)s expired"),
    "compensation": N_("complaint compensation"),
}


def ledger_reason(reason: str, gettext: Gettext) -> str:
    said = ledger_reasons.read(reason)
    if said is None:
        return reason
    shown = gettext(SAID[said.kind]) % {"ref": said.ref, "sale": said.sale, "gift": said.gift, "store": said.store,
                                        "why": said.why, "date": said.valid_until}
    notes = [N_("imported without points")] if said.imported_without_points else []
    notes += [N_("below the minimum sale amount")] if said.below_minimum else []
    worded = [gettext(note) for note in notes]
    if said.capped_at is not None:
        worded.append(gettext(N_("capped at %(cap)s points a sale")) % {"cap": said.capped_at})
    if said.goods_earned is not None:
        worded.append(gettext(N_("the goods earned %(earned)s; %(expired)s of the sale's points had already expired"))
                      % {"earned": said.goods_earned, "expired": said.expired_points})
    return shown + "".join(gettext(" (%(note)s)") % {"note": note} for note in worded)
