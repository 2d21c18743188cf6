"""Which birthdays fall on a given day: the rule behind the `birthday-notices` job.

A birthday is celebrated on its month and day each year; someone born on 29 February celebrates on
28 February in common years (the chain's choice: the last day of their month rather than 1 March).
"""

import calendar
from datetime import date

LEAP_DAY = (2, 29)


def birthday_in(year: int, birthday: date) -> date:
    """The day `birthday` is celebrated in `year`."""
    if (birthday.month, birthday.day) == LEAP_DAY and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def birthdays_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) of birth of everyone whose birthday is celebrated on `day`."""
    born = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        born.append(LEAP_DAY)
    return born


def days_to_birthday(birthday: date, today: date) -> int:
    """Local days from `today` to the next day `birthday` is celebrated (0: today)."""
    coming = birthday_in(today.year, birthday)
    if coming < today:
        coming = birthday_in(today.year + 1, birthday)
    return (coming - today).days
