"""The customer at the till, for what the till asks before the sale: the points preview, and the
coupons it validates and reserves for the sale.

A till names its customer by card or by phone (`domain.sales.TillCustomer`, the rule of a sale's
`member` too). Points and campaigns keep each member's card, so a card goes to them as it is. They
know no phones: a phone is asked of members, who hold them, with the look-up the app's sign-in uses
(members' `/v1/app-accounts/identify`, the phone's digest under the platform's pepper, as a phone
sale is matched to its member), and the service is then asked by the member id it answered. The
phone travels in that request's body only, never in a URL (URLs end up in access logs), in a log
line or on Kafka; the till hears no member id, only what the service answers.
"""

from datetime import datetime

from gateway.adapters.member_accounts import MemberAccounts
from gateway.domain.sales import TillCustomer
from gateway.domain.throttle import FailureThrottle
from shared.errors import TooManyRequests


class TooManyPhoneLookups(TooManyRequests):
    """A till asked about more phones than the chain's tills need (HTTP 429)."""


async def member_reference(
    customer: TillCustomer, accounts: MemberAccounts, *, till: str, lookups: FailureThrottle, now: datetime,
) -> dict[str, str]:
    """How a service behind the gateway (points' preview, campaigns' validate and reserve) is to
    find the customer's account: `card_no` or `member_id`, or nothing for a basket without a
    customer or a phone that is no member's. Points answers the latter as it does an unknown card
    (not known, at the basket's channel); campaigns as a sale without a card (a member's own coupon
    is `member_required`: present the card).

    The answer tells whether a phone is a member's, so a till asks about at most `lookups.limit`
    phones within its window, whichever of its calls names them (a busy till rings up a sale a
    minute, some named by phone): beyond that it is TooManyPhoneLookups, as staff searching by phone
    are held to their own budget. Counted before the look-up, so a burst sent at once is counted
    as it comes."""
    if customer.card_no is not None:
        return {"card_no": customer.card_no}
    if customer.phone is None:
        return {}
    if wait := lookups.retry_after(till, now):
        raise TooManyPhoneLookups(f"phone: at most {lookups.limit} customers named by phone within "
                                  f"{int(lookups.window.total_seconds() // 60)} minutes at one till; try again later",
                                  retry_after_s=wait)
    lookups.fail(till, now)
    member_id = await accounts.member_with_phone(customer.phone)
    return {} if member_id is None else {"member_id": member_id}
