"""The optional second factor of admins and store managers: a TOTP code (RFC 6238, 6 digits, 30 s)
from an authenticator app enrolled with an otpauth:// URI."""

import hmac
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pyotp
import segno

ISSUER_NAME = "CRM"
CODE = re.compile(r"^[0-9]{6}$")
# A code is accepted in the 30-second step before and after the current one as well: phones' clocks
# drift, and a code typed at the end of its step arrives in the next.
DRIFT_STEPS = 1


def new_seed() -> str:
    return pyotp.random_base32()  # 160 bits, RFC 4226's recommended length


def provisioning_uri(seed: str, login: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=login, issuer_name=ISSUER_NAME)


def matching_step(seed: str, code: str, now: datetime, after_step: int | None = None) -> int | None:
    """The time step (30-second counter) whose code this is, within the drift allowed around `now`;
    None when none matches. A step at or before `after_step` (the last one used) does not count: a
    code seen over someone's shoulder, or replayed from a captured request, is already spent."""
    if not CODE.match(code):
        return None
    totp = pyotp.TOTP(seed)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_matches(seed: str, code: str, now: datetime) -> bool:
    return matching_step(seed, code, now) is not None


def qr_code_svg(uri: str, title: str) -> str:
    """The otpauth URI as a QR code for the authenticator app to scan, inline SVG markup (no file
    and no address of its own, where a cache or a log would keep the seed). White around it, as
    scanners need, whatever the page's colours."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, light="#fff")


def seed_for_typing(uri: str) -> str:
    """The seed of an otpauth URI in groups of four, for typing into an app that cannot scan."""
    seed = parse_qs(urlsplit(uri).query)["secret"][0]
    return " ".join(seed[i:i + 4] for i in range(0, len(seed), 4))
