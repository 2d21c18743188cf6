"""The console's form of a promotion, read into campaigns' `POST /v1/promotions` body.

What a promotion may be is campaigns' rule (`PromotionIn`): one SKU or one category; a promotional
price with the usual one, an amount off or a percent off with its cap; a start before its end. The
form sends what was filled in, its times read as the chain's local time, and campaigns' refusal of
a part is shown on its box.
"""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from gateway.domain.refusals import at_form_fields
from shared.zones import typed_moment

# Campaigns' name of each box -> the form's. A name other forms use too (a sale line's `sku`, the
# complaint form's `category`) has one of the form's own: the console's label of a name is one.
NAMES = {"title": "promotion_title", "sku": "promotion_sku", "category": "promotion_category", "price": "promotion_price",
         "regular_price": "regular_price", "amount_off": "amount_off", "percent_off": "percent_off",
         "max_discount": "max_discount", "priority": "promotion_priority"}
TIMES = ("valid_from", "valid_until")


def values(form: Mapping[str, list[str]]) -> dict[str, str]:
    """The boxes as typed, by the form's names."""
    return {name: (form.get(name) or [""])[0] for name in (*NAMES.values(), *TIMES)}


def body(shown: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """Campaigns' body of the boxes filled in: an empty one is left out, for campaigns to take its
    default or to name it as missing."""
    sent: dict[str, Any] = {api: text for api, box in NAMES.items() if (text := shown.get(box, "").strip())}
    for name in TIMES:
        if (moment := typed_moment(name, shown.get(name, ""), zone)) is not None:
            sent[name] = moment.isoformat()
    return sent


def located(said: Any) -> Any:
    return at_form_fields(said, {api: box for api, box in NAMES.items() if api != box})
