"""The store's gift register as the console shows, prints and exports it: customers, gifts and the
staff who redeemed and handed over each gift by name (an id nobody could name is shown as it is), times in the
chain's local time, a totals row. The CSV's and the workbook's headings are the screen's, in the
person's language."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.reports import Column, local_time


def _at(value: str | None, zone: ZoneInfo) -> str:
    return local_time(datetime.fromisoformat(value), zone) if value else ""


@dataclass
class GiftRegister:
    rows: list[dict[str, Any]] = field(default_factory=list)
    gifts: dict[str, tuple[str, str]] = field(default_factory=dict)  # gift id -> (Chinese name, English name)
    people: dict[str, str] = field(default_factory=dict)  # member id -> "name (card no.)"
    staff_names: dict[str, str] = field(default_factory=dict)  # staff or directory id -> name

    def gift(self, gift_id: str, language: str) -> str:
        names = self.gifts.get(gift_id)
        return gift_id if names is None else names[1] if language == "en" else names[0]

    def staff(self, staff_id: str | None) -> str:
        return self.staff_names.get(staff_id, staff_id) if staff_id else ""

    def columns(self, gettext: Callable[[str], str], language: str, zone: ZoneInfo) -> list[Column]:
        """The columns of its downloads (the register totals `points_kept`)."""
        return [
            Column("redeemed_at", gettext("When"), lambda r: _at(r["redeemed_at"], zone)),
            Column("member", gettext("Customer"), lambda r: self.people.get(r["member_id"], r["member_id"])),
            Column("gift", gettext("Gift"), lambda r: self.gift(r["gift_id"], language)),
            Column("points", gettext("Points")),
            Column("status", gettext("Status"), lambda r: gettext(r["status"])),
            # A cancelled entry gave its points back: what a clerk checks is the points kept (points' rule).
            Column("points_kept", gettext("Points kept")),
            Column("handed_over_at", gettext("Handed over"), lambda r: _at(r.get("handed_over_at"), zone)),
            Column("staff_id", gettext("Redeemed by"), lambda r: self.staff(r.get("staff_id"))),
            Column("handed_over_by", gettext("Handed over by"), lambda r: self.staff(r.get("handed_over_by"))),
        ]
