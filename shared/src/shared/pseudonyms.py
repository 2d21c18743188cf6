"""Pseudonymous digests of personal identifiers, so events can refer to a phone without carrying it."""

import hashlib
import hmac


def phone_hmac(phone: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), phone.strip().encode(), hashlib.sha256).hexdigest()
