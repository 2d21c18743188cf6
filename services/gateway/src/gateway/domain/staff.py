"""Staff accounts: who may have one, what binds it to a store or an account manager, what a password
and a login name look like, and who a staff member's token speaks for.

The rules here are pure; hashing and storing live in adapters/ and service_layer/."""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.auth import STORE_BOUND, Role
from shared.errors import Invalid, ServiceError
from shared.identifiers import STAFF_DIRECTORY_ID_PATTERN

# The roles people hold. Tills, members and the platform's services get their tokens elsewhere.
STAFF_ROLES = frozenset({
    Role.SERVICE_DESK, Role.ACCOUNT_MANAGER, Role.STORE_MANAGER, Role.MARKETING, Role.ADMIN, Role.OPERATOR,
})
# Roles that may have a store (those whose token must name one: shared.auth.STORE_BOUND): an account manager works for one store's customers, but their scope
# is the customers assigned to them, so their token need not carry it.
MAY_HAVE_STORE = STORE_BOUND | {Role.ACCOUNT_MANAGER}
# Roles listed in members' staff directory, whose directory id is how the services recognise the
# customers assigned to them (`MemberFacts.manager_id` is compared with the token's subject).
IN_DIRECTORY = frozenset({Role.ACCOUNT_MANAGER, Role.STORE_MANAGER, Role.SERVICE_DESK})
# Roles that may protect their login with a one-time code (second factor).
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.STORE_MANAGER})

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DIRECTORY_ID = re.compile(STAFF_DIRECTORY_ID_PATTERN)
STAFF_ID = re.compile(r"^stf_[0-9a-f]{16}$")
MIN_PASSWORD_CHARS = 12
# argon2 hashes any length, but a megabyte of password would be a megabyte hashed per try.
MAX_PASSWORD_CHARS = 128


class StaffAction(StrEnum):
    CREATED = "created"
    # The creation sent again under its Idempotency-Key after its answer was lost: the generated
    # first password, never seen, replaced by another (`service_layer.staff._created_already`).
    CREATION_RETRIED = "creation_retried"
    CHANGED = "changed"
    PASSWORD_SET = "password_set"
    # By the account's own holder, with the password they had (`staff_sessions.change_password`).
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    SECOND_FACTOR_ENROLLED = "totp_enrolled"
    SECOND_FACTOR_REMOVED = "totp_removed"


@dataclass(frozen=True, slots=True)
class Assignment:
    """What an account is bound to: its role, its store and its staff-directory id, consistent
    with each other."""

    role: Role
    store_id: str | None
    account_manager_id: str | None


def assignment(role: Role, store_id: str | None, account_manager_id: str | None) -> Assignment:
    """The account's binding, or Invalid naming the field the role needs or must not have."""
    if role not in STAFF_ROLES:
        raise Invalid("role", f"{role} is not a staff role; one of {', '.join(sorted(STAFF_ROLES))}")
    if role in STORE_BOUND and not store_id:
        raise Invalid("store_id", f"the role {role} works for one store: store_id is required")
    if store_id and role not in MAY_HAVE_STORE:
        raise Invalid("store_id", f"the role {role} is not bound to a store")
    if role is Role.ACCOUNT_MANAGER and not account_manager_id:
        raise Invalid(
            "account_manager_id",
            "an account manager needs their staff-directory id: it is how their customers are found",
        )
    if account_manager_id is not None:
        if role not in IN_DIRECTORY:
            raise Invalid("account_manager_id", f"the role {role} is not in the staff directory")
        if not DIRECTORY_ID.fullmatch(account_manager_id):  # `$` alone lets a final newline through
            raise Invalid("account_manager_id", "1 to 64 letters, digits, '.', '_' or '-', not beginning with '.'")
        if STAFF_ID.match(account_manager_id):
            # An account's own id is the subject of its tokens when it has no directory id: taken as
            # a directory id, another account's would make this one speak as that person.
            raise Invalid("account_manager_id", "stf_ and 16 hex digits is how this platform names accounts, not a staff-directory id")
    return Assignment(role, store_id or None, account_manager_id)


def normalized_login(login: str) -> str:
    """The stored form of a login name: people type it in either case."""
    return login.strip().lower()


def check_login(login: str) -> str:
    normal = normalized_login(login)
    if not LOGIN.match(normal):
        raise Invalid("login", "2 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    return normal


# Spaces of no width, which `str.strip` keeps: Mongolian vowel separator, zero-width space,
# non-joiner, joiner, word joiner, BOM.
_ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"


def check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(field, f"at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise Invalid(field, f"at most {MAX_PASSWORD_CHARS} characters")
    if password != password.strip() or password != password.strip(_ZERO_WIDTH):
        # A trailing space typed once is a login that fails forever after: refuse it up front. A
        # zero-width space pasted along with a password is the same, and not even seen in the box.
        raise Invalid(field, "must not begin or end with white space")


def token_subject(staff_id: str, account_manager_id: str | None) -> str:
    """Whom a staff token names: the staff-directory id where the account has one (the services
    compare it with a customer's manager), the staff id otherwise."""
    return account_manager_id or staff_id


class LoginFailed(ServiceError):
    """Unknown login, wrong password, deactivated account: one answer for all three, so the answer
    never tells whether an account exists."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("login or password is wrong")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="crm-identity"'}


class SecondFactorNeeded(LoginFailed):
    """The password was right but the account asks for a one-time code too; the client asks the
    person for it and sends both again. Only a right password gets this answer."""

    def __init__(self, message: str = "a one-time code (totp_code) is required for this account") -> None:
        ServiceError.__init__(self, message)

    def extra(self) -> dict[str, Any]:
        return {"error": "totp_required"}


class SecondFactorWrong(SecondFactorNeeded):
    def __init__(self) -> None:
        super().__init__("the one-time code (totp_code) is wrong or expired")

    def extra(self) -> dict[str, Any]:
        return {"error": "totp_invalid"}
