"""How personal data is shown to callers who do not need it in clear, and what erasure leaves."""

import hashlib
import re

# The contact details masked for roles that do not need them; a read of any of them in clear is
# written to the access log.
CONTACT_FIELDS = ("phone", "address", "email")

# The card number column is unique and at most 32 characters. "erased-" plus 25 hex digits of a
# digest of the member id stays unique per member, does not lead back to the card that was issued,
# and can never be matched by a sale or a registration: both only accept letters and digits.
ERASED_CARD_PREFIX = "erased-"


def mask_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_address(address: str) -> str:
    # Keep at most the first few characters (district / road) so staff can still tell customers
    # apart, but never a digit: building, unit and room numbers are what lead to the door.
    if not address:
        return ""
    lead = re.split(r"[0-9０-９#＃栋幢楼号单元室-]", address, maxsplit=1)[0][:4]
    lead = re.sub(r"[零一二三四五六七八九十百]+$", "", lead)  # "翠苑三" of 翠苑三栋 names the building
    return lead + "****" if lead and len(address) > len(lead) else "****"


def mask_email(email: str | None) -> str | None:
    if email is None:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def present_contact_fields(phone: str | None, address: str, email: str | None) -> list[str]:
    """The contact fields that hold something; an erased or empty field reveals nothing."""
    values = {"phone": phone, "address": address, "email": email}
    return [f for f in CONTACT_FIELDS if values[f]]


def erased_card_no(member_id: str) -> str:
    return ERASED_CARD_PREFIX + hashlib.sha256(member_id.encode()).hexdigest()[:25]


def erased_address_key(household_id: str) -> str:
    """A household nobody lives in any more loses its address but stays for the community totals."""
    return f"erased:{household_id}"
