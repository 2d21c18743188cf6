"""Report periods as clients name them. Year 0000 matches a naive `\\d{4}` but is no date Python
can build (a server error deep in a report); the year here starts at 1000."""

MONTH_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
QUARTER_PATTERN = r"^[1-9]\d{3}-Q[1-4]$"
