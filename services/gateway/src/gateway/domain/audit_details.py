"""What the audit trails of staff accounts, identity clients and stores record besides the action,
written and read back in one place.

The `detail` of an entry is text the JSON API answers as it was written (in English, with codes:
'login=li.na name="李娜" role=service_desk store=S001', "generated; 2 sessions ended"), kept for
support and for the entries written before the console read them. The console shows the same facts
in the person's language: `facts` reads back what the writers here wrote; an entry it cannot read is
shown as it was written.

A name is free text, so it is written as a JSON string: a name such as `x role=admin` or `a -> b`
reads back as that name, not as a change of role. Entries written before names were quoted are
read as they were written, up to the next field's label.
"""

import json
import re
from dataclasses import dataclass

# An account's facts in the order they are written; `directory_id` is the staff-directory id.
ACCOUNT_FIELDS = ("login", "name", "role", "store", "directory_id")
# A store's: its name and city (whether it is open is the action: closed, reopened).
STORE_FIELDS = ("name", "city")
_LABELS = ACCOUNT_FIELDS + tuple(f for f in STORE_FIELDS if f not in ACCOUNT_FIELDS)
_FIELD = re.compile(r"(?:^| )(" + "|".join(_LABELS) + r")=(.*?)(?= (?:" + "|".join(_LABELS) + r")=|$)")
_CHANGE = " -> "
_QUOTED = r'"(?:[^"\\]|\\.)*"'
# Free text, written as JSON strings.
_QUOTED_FIELD = re.compile(r"(?:^| )(name|city)=(" + _QUOTED + ")")
_CHANGE_OUTSIDE_QUOTES = re.compile(_QUOTED + "|" + re.escape(_CHANGE))
# Room for an account's change whole: two descriptions of at most 314 characters each (a login of
# 64, a name of 100, a store id of 32, a directory id of 64, and their labels).
MAX_DETAIL_CHARS = 1000
_PASSWORD = re.compile(r"(generated|given); (\d+) sessions ended")
_SESSIONS = re.compile(r"(\d+) sessions ended")
_CLIENT = re.compile(r"(till|service) (\S+)")


def account(login: str, name: str, role: str, store_id: str | None, directory_id: str | None) -> str:
    parts = [f"login={login}", f"name={json.dumps(name, ensure_ascii=False)}", f"role={role}"]
    if store_id:
        parts.append(f"store={store_id}")
    if directory_id:
        parts.append(f"directory_id={directory_id}")
    return " ".join(parts)


def account_change(before: str, after: str) -> str:
    """Two `account` descriptions, before and after a change."""
    return f"{before}{_CHANGE}{after}"


def store(name: str, city: str) -> str:
    return f"name={json.dumps(name, ensure_ascii=False)} city={json.dumps(city, ensure_ascii=False)}"


def password_set(generated: bool, sessions_ended: int) -> str:
    return f"{'generated' if generated else 'given'}; {sessions_ended} sessions ended"


def sessions_ended(count: int) -> str:
    return f"{count} sessions ended"


def client(kind: str, store_or_service: str) -> str:
    return f"{kind} {store_or_service}"


@dataclass(frozen=True)
class Fact:
    """One thing an entry records: a field of the account (`before` set when it changed), how many
    sessions ended, whether a password was generated, a client's kind and store or service."""

    name: str
    value: str
    before: str | None = None


def _fields(description: str) -> dict[str, str]:
    quoted = {match[1]: json.loads(match[2]) for match in _QUOTED_FIELD.finditer(description)}
    found = {name: value for name, value in _FIELD.findall(_QUOTED_FIELD.sub("", description))}
    return found | quoted


def _split_change(detail: str) -> tuple[str, str] | None:
    """The descriptions before and after, split at the arrow outside any quoted name."""
    for match in _CHANGE_OUTSIDE_QUOTES.finditer(detail):
        if match[0] == _CHANGE:
            return detail[:match.start()], detail[match.end():]
    return None


def facts(action: str, detail: str) -> list[Fact] | None:
    """The facts of an entry, or None when its detail is not one the writers here write (shown as
    written then)."""
    if not detail:
        return []
    if action in ("changed", "renamed") and (change := _split_change(detail)) is not None:
        old, new = map(_fields, change)
        changed = [Fact(name, new.get(name, ""), old.get(name, "")) for name in _LABELS
                   if old.get(name, "") != new.get(name, "")]
        return changed if old and new else None
    if action == "created" and (match := _CLIENT.fullmatch(detail)):
        return [Fact("kind", match[1]), Fact("store_or_service", match[2])]
    if action == "created" and (found := _fields(detail)):
        return [Fact(name, found[name]) for name in _LABELS if name in found]
    if match := _PASSWORD.fullmatch(detail):
        return [Fact("password", match[1]), Fact("sessions_ended", match[2])]
    if match := _SESSIONS.fullmatch(detail):
        return [Fact("sessions_ended", match[1])]
    return None
