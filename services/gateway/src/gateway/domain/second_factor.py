"""The optional second factor of admins and store managers: a TOTP code (RFC 6238, 6 digits, 30 s)
from an authenticator app enrolled with an otpauth:// URI."""

import re
from datetime import datetime

import pyotp

ISSUER_NAME = "CRM"
CODE = re.compile(r"^[0-9]{6}$")
# A code is accepted in the 30-second step before and after the current one as well: phones' clocks
# drift, and a code typed at the end of its step arrives in the next.
DRIFT_STEPS = 1


def new_seed() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended length


def provisioning_uri(seed: str, login: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=login, issuer_name=ISSUER_NAME)


def code_matches(seed: str, code: str, now: datetime) -> bool:
    if not CODE.match(code):
        return False
    return pyotp.TOTP(seed).verify(code, for_time=now, valid_window=DRIFT_STEPS)
