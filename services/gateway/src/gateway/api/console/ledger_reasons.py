"""Why points moved, as the customer's page shows each entry of the points ledger. Points writes
the reasons it makes itself in English for its API ("purchase S001/T1", "gift g1 at S001", with
notes in brackets: "(capped at 5000 points a sale)"), read back by `shared.ledger_reasons`; the
staff reading the page are told them in their language, the stores and gifts by their names as the
member app's ledger names them (`domain.ledger_wording.Names`: a store or gift without a name by
its id). A reason staff typed (an adjustment, a bonus) or one not known there is shown as written."""

from collections.abc import Iterable

from gateway.api.console.i18n import N_
from gateway.api.console.refusals import Gettext
from gateway.domain.ledger_wording import Names
from shared import ledger_reasons

SAID = {
    "purchase": N_("purchase %(ref)s"),
    "return": N_("return %(ref)s of sale %(sale)s"),
    "gift": N_("gift %(gift)s at %(store)s"),
    "cancelled_gift": N_("cancelled gift %(gift)s: %(why)s"),
    "expired": N_("points valid until %(date)s expired"),
    "compensation": N_("complaint compensation"),
}
# A page whose names were not looked up: every store and gift shown by its id.
BY_ID = Names({}, {})


def named(reasons: Iterable[str]) -> tuple[set[str], set[str]]:
    """The store ids and gift ids a page's reasons name, so their names are looked up at once."""
    stores: set[str] = set()
    gifts: set[str] = set()
    for reason in reasons:
        said = ledger_reasons.read(reason)
        if said is None:
            continue
        stores.update(_store_of(ref) for ref in (said.ref, said.sale) if "/" in ref)
        stores.update({said.store} - {""})
        gifts.update({said.gift} - {""})
    return stores, gifts


def _store_of(ref: str) -> str:
    """The store of a sale's or refund's reference, `<store>/<transaction>`."""
    return ref.partition("/")[0]


def _ref(ref: str, names: Names) -> str:
    """A sale or refund as `<store's name>/<transaction>`: the transaction id is what the receipt
    shows, so it stays; a reference of another shape is shown as points wrote it."""
    store, slash, txn = ref.partition("/")
    return f"{names.store(store)}/{txn}" if slash and store else ref


def ledger_reason(reason: str, gettext: Gettext, names: Names = BY_ID, *, english: bool = False) -> str:
    said = ledger_reasons.read(reason)
    if said is None:
        return reason
    gift = names.gift(said.gift)[1 if english else 0] if said.gift else ""
    shown = gettext(SAID[said.kind]) % {"ref": _ref(said.ref, names), "sale": _ref(said.sale, names), "gift": gift,
                                        "store": names.store(said.store), "why": said.why, "date": said.valid_until}
    return shown + _notes(said, gettext)


def _notes(said: ledger_reasons.Reason, gettext: Gettext) -> str:
    notes = [N_("imported without points")] if said.imported_without_points else []
    notes += [N_("below the minimum sale amount")] if said.below_minimum else []
    worded = [gettext(note) for note in notes]
    if said.capped_at is not None:
        worded.append(gettext(N_("capped at %(cap)s points a sale")) % {"cap": said.capped_at})
    if said.goods_earned is not None:
        worded.append(gettext(N_("the goods earned %(earned)s; %(expired)s of the sale's points had already expired"))
                      % {"earned": said.goods_earned, "expired": said.expired_points})
    return "".join(gettext(" (%(note)s)") % {"note": note} for note in worded)
