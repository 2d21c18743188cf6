"""Which days an account manager's tracking form may be dated: the rule behind `tracked_on`.

The form is the day's record of contacts, filled in that day or a little later: after a weekend,
one of the week-long holidays (Spring Festival, National Day) or a leave. Within
`CRM_TRACKING_LATE_DAYS` (a month by default) of today every such catch-up fits; a date older than
that is almost always a slip of the year or month (1990-12-02 for 2026-12-02), and would land in a
daily report read long ago and in the customer's archive as a contact that never happened then.
A date after today (the chain's business date) records a contact that has not happened yet.
"""

from datetime import date, timedelta

from shared.follow_ups import FOLLOW_UP_AHEAD_DAYS, earliest_follow_up, latest_follow_up


def tracked_on_problem(tracked_on: date, today: date, late_days: int) -> str | None:
    """Why a tracking form cannot carry this date, or None; `today` is the chain's business date."""
    if tracked_on > today:
        return f"is {tracked_on.isoformat()}, in the future (today is {today.isoformat()})"
    earliest = today - timedelta(days=late_days)
    if tracked_on < earliest:
        return (
            f"is {tracked_on.isoformat()}, more than {late_days} days ago: "
            f"a contact is recorded at most that late (the earliest taken is {earliest.isoformat()})"
        )
    return None


def follow_up_problem(next_on: date, tracked_on: date, today: date) -> str | None:
    """Why the next contact cannot be planned on `next_on` (after a contact on `tracked_on`), or None.
    The days taken are `shared.follow_ups`' (the console's date picker offers the same); the reason
    given is the bound `next_on` misses: the contact's own day, or today for a form filled in late."""
    if next_on < earliest_follow_up(tracked_on, today):
        if next_on <= tracked_on:
            return f"is {next_on.isoformat()}: must be after the day of this contact ({tracked_on.isoformat()})"
        return f"is {next_on.isoformat()}: must not be before today ({today.isoformat()})"
    latest = latest_follow_up(today)
    if next_on > latest:
        return f"is {next_on.isoformat()}, more than {FOLLOW_UP_AHEAD_DAYS} days ahead (the latest taken is {latest.isoformat()})"
    return None
