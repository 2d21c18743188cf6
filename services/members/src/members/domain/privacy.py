"""How personal data is shown to callers who do not need it in clear."""


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_address(address: str) -> str:
    # Keep the first few characters (district / road) so staff can still tell customers apart.
    return address[:4] + "****" if len(address) > 4 else "****"
