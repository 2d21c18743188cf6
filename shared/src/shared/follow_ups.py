"""The days an account manager may plan a customer's next contact for, after a contact on a given
day: members refuses any other (`members.domain.tracking`), and the console's tracking form offers
only these in its date picker. One rule for both, here, where both services reach it."""

from datetime import date, timedelta

# The next contact is planned within a year: further ahead is almost always a slip of the year
# (2027-12-06 for 2026-12-06), and the customer would drop out of the manager's due list for good.
FOLLOW_UP_AHEAD_DAYS = 366


def earliest_follow_up(tracked_on: date, today: date) -> date:
    """The first day the next contact may be planned for, after a contact on `tracked_on`: the day
    after it (a call later the same day is this contact, not the next one), and not before today
    (the chain's business date: a day gone by is a plan already missed, which a form filled in late
    for an earlier contact could otherwise still plan)."""
    return max(tracked_on + timedelta(days=1), today)


def latest_follow_up(today: date) -> date:
    """The last day the next contact may be planned for: `FOLLOW_UP_AHEAD_DAYS` from today."""
    return today + timedelta(days=FOLLOW_UP_AHEAD_DAYS)
