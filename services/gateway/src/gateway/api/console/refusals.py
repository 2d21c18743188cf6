"""What a person is told when a service refuses a console form: the refusal in their language.

The services answer in English, for their API clients and logs: a 422 lists pydantic's errors
(`[{"loc": ["body", "phone"], "msg", "type", "ctx"}]`), other refusals say one sentence ("gift g1
is out of stock at store S001"), and a rule only the service checks names its field first
("tracked_on: is 2026-12-09, in the future ..."). `console_reads.ServiceRefused` carries what the
service said: each problem is read from either shape, its field, and its reason from the error's
`type` and `ctx` where the list is at hand, else from pydantic's English message of that type (a
rule a service words itself, or a list the gateway's own checks flattened).

As with `render.SHOWN_AS_DATA`, every message here is English marked `N_` and put into words by the
catalogue where it is shown: field labels are the forms' own labels (the same catalogue entries), a
reason is worded from the error type with its limits (`max_length`, `ge`), and a sentence the services
are known to say is matched by its pattern. A field without a label is named as the service names
it; a reason or a sentence not known here is shown as the service wrote it, never hidden.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.api.console.i18n import N_
from gateway.domain.refusals import at_form_fields, problems

Gettext = Callable[[str], str]

# A field as the services name it (dotted below the body) -> the label of the console's form field.
LABELS = {
    "name": N_("Name"), "phone": N_("Phone"), "community": N_("Community"), "community_id": N_("Community"), "address": N_("Address"),
    "card_no": N_("Card"), "replaces": N_("Card to replace"), "birthday": N_("Birthday"), "consents.sms": N_("Agrees to marketing SMS"),
    "store_id": N_("Store"), "home_store_id": N_("Store"), "gift_id": N_("Gift"), "used_on": N_("Date of the visit"),
    "tracked_on": N_("Date"), "date": N_("Date"), "member_id": N_("Customer"), "contact": N_("Contact (who was reached)"),
    "method": N_("Method"), "rating": N_("Effect (1 poor to 5 very good)"), "notes": N_("Notes"),
    "next_follow_up_on": N_("Next follow-up (optional)"),
    "note": N_("Resolution note"), "points": N_("Compensation in points"), "compensation.points": N_("Compensation in points"),
    "coupon_value": N_("Compensation coupon value"), "compensation.coupon_value": N_("Compensation coupon value"),
    "from": N_("From"), "to": N_("To"), "since": N_("Failed from"), "until": N_("Failed before"),
    "reason": N_("Reason for discarding"), "reopen_reason": N_("Why it is reopened"), "card_reason": N_("Why"), "as_of": N_("As of (empty: now)"), "period": N_("Period (YYYY-MM or YYYY-Qn)"),
    "count": N_("Counted now"), "status": N_("Status"), "waiting_on": N_("Waiting on"),
    "amount": N_("Amount off (yuan)"), "threshold": N_("Spend at least (yuan)"), "percent": N_("Percent off"),
    "max_discount": N_("At most off (yuan)"), "days": N_("Valid for (days from issue)"),
    "control_share": N_("Share held out as control (0 to 0.5)"), "tip": N_("Tip (for a tip message)"), "selected": N_("Dead letters"),
    "message.params": N_("Message"), "segment_id": N_("Segment (once)"), "trigger": N_("Occasion"),
    "coupon_template_id": N_("Coupon template"),
    # a report's filter, and the format of a download (an address typed by hand, or an old link)
    "manager_id": N_("Account manager"), "format": N_("Download format"),
    "description": N_("Description"), "category": N_("Complaint category"), "severity": N_("Severity"), "channel": N_("Channel"),
    "new_password": N_("New password"), "repeat_password": N_("New password again"), "confirm": N_("Confirmation"),
    "login": N_("Login name"), "role": N_("Role"), "account_manager_id": N_("Staff-directory id"), "password": N_("Password"),
    "service": N_("Service"), "label": N_("Label"), "kind": N_("Kind"), "page": N_("Page"),
    # what a record is called, each in a box of its form's own name (a plain `name` is a person's)
    "campaign_name": N_("Campaign name"), "template_name": N_("Template name"), "segment_name": N_("Segment name"),
    # the segment form (`gateway.domain.segment_form` locates campaigns' refusals of a rule at these)
    "tier": N_("Tier"), "value_class": N_("Value class"), "churn_risk": N_("Churn risk"),
    "home_store": N_("Home stores (ids, separated by commas)"), "spend_min": N_("Lifetime spend at least (yuan)"),
    "spend_max": N_("Lifetime spend at most (yuan)"), "idle_from": N_("Days since the last purchase, at least"),
    "idle_to": N_("Days since the last purchase, at most"), "categories": N_("Bought in the categories (separated by commas)"),
    "category_days": N_("in the last days"), "category_min_spend": N_("spending at least (yuan)"),
    "birth_month": N_("Birth month"), "consent": N_("Marketing consent"), "rule": N_("Customers who meet all the conditions filled in"),
    # the earning-rule form (`gateway.domain.earning_rule_form`)
    "effective_from": N_("In force from (empty: now)"), "points_per_yuan": N_("Points per yuan"),
    "channel_rates": N_("Rates per channel (name = rate, a line each)"),
    "store_rates": N_("Rates per store (store id = rate, a line each)"),
    "category_multipliers": N_("Multipliers per category (category = multiplier, a line each)"),
    "excluded_categories": N_("Categories earning nothing (a line each)"), "min_sale_amount": N_("Least sale that earns (yuan)"),
    "rule_reason": N_("Why (kept with the version)"), "totp_code": N_("One-time code"),
    # the promotion form (`gateway.domain.promotion_form`)
    "promotion_title": N_("Title (what the member reads)"), "promotion_sku": N_("SKU (or a category)"),
    "promotion_category": N_("Category (or a SKU)"), "promotion_price": N_("Promotional price (yuan, a SKU only)"),
    "regular_price": N_("Usual price (yuan, with a promotional price)"), "amount_off": N_("Amount off (yuan)"),
    "percent_off": N_("Percent off"), "valid_from": N_("Valid from"), "valid_until": N_("Valid until"),
    "promotion_priority": N_("Priority on the general list (0 first)"),
    # the bulk bonus form (`api/routes/console_bonuses.py`)
    "bonus_points": N_("Points for each customer"), "bonus_reason": N_("Reason (in each customer's points history)"),
    "card_nos": N_("Card numbers, one a line (a column pasted from a spreadsheet)"),
}

# A box taking a line per part (a rate per channel), as it is named before one of its parts: the
# box's label without how to write a line, which says nothing of the part refused ("渠道倍率 foo").
PART_LABELS = {"channel_rates": N_("Rates per channel"), "store_rates": N_("Rates per store"),
               "category_multipliers": N_("Multipliers per category"), "card_nos": N_("Card")}

# A box's choices, each in the words its form offers it, where the code would be worded as another
# page's (a card `lost` is 遗失, a churn risk `lost` 已流失): the form's options and a refusal of a
# value it does not offer name them alike (`render` hands the table to the templates as `choices`).
CHOICES = {"card_reason": {"lost": N_("Lost"), "damaged": N_("Damaged")}}

# What a field's pattern asks for, where its regex says nothing to a person (`string_pattern_mismatch`).
FORMATS = {"phone": N_("must be an 11-digit mobile number"), "card_no": N_("letters and digits only")}
# A decimal that is no amount of money: `decimal_parsing` is worded as money ("such as 20.00") but
# for these, a share or a percentage, which "20.00" would mislead about.
NUMBERS = {"control_share": N_("must be a number such as 0.1"), "percent": N_("must be a number such as 15"),
           "percent_off": N_("must be a number such as 15")}


@dataclass(frozen=True)
class Wording:
    """A message, with the values of its placeholders: `codes` are data words the catalogue puts
    into words (a status: "reserved"), `nested` are refusals of their own, worded the same way."""

    message: str
    english: str = ""  # how the service says it, its values as named groups (matched whole)
    codes: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # placeholders holding a field's name, shown as its form label
    nested: tuple[str, ...] = ()
    moments: tuple[str, ...] = ()  # placeholders holding a moment (ISO, with its offset), shown as `wall_clock` shows it
    one: tuple[str, str] = ("", "")  # (placeholder, message): the message when that count is 1
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", re.compile(self.english or re.escape(self.message), re.DOTALL))

    def say(self, values: Mapping[str, Any], gettext: Gettext) -> str:
        shown = {k: "" if v is None else str(v) for k, v in values.items()}
        for name in self.codes:
            if shown.get(name):
                shown[name] = gettext(shown[name])
        for name in self.fields:
            if shown.get(name) in LABELS:
                shown[name] = gettext(LABELS[shown[name]])
        for name in self.nested:
            if shown.get(name):
                shown[name] = sentence(shown[name], gettext) or shown[name]
        for name in self.moments:
            if shown.get(name):
                shown[name] = wall_clock(shown[name])
        count, singular = self.one
        message = singular if singular and shown.get(count) == "1" else self.message
        return gettext(message) % shown


def wall_clock(moment: str) -> str:
    """A moment a service names in a refusal ("2026-12-08T06:39+08:00") as the console shows times,
    the date and the local time without "T" and the offset (`render.local_time`): the services word
    moments in the chain's zone (CRM_BUSINESS_TIMEZONE), the console's own, so its wall-clock time is
    the one to show. To the minute, as the services say them: seconds would claim what was not said.
    Anything that is no moment is shown as it came."""
    try:
        at = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    return at.strftime("%Y-%m-%d %H:%M" if at.second == at.microsecond == 0 else "%Y-%m-%d %H:%M:%S")


_NUMBER = r"-?[0-9.]+"
_ONE_OF = N_("one of: %(expected)s")
_TICK = N_("tick the box to confirm")
_FORMAT = N_("not in the expected format")
_WHOLE = N_("must be a whole number")
_DATE = N_("must be a date (YYYY-MM-DD)")
_DATETIME = N_("must be a date and time")
_YES_NO = N_("must be yes or no")
_CHOICES = r"(?P<expected>['\"0-9-].*)"
_AT_LEAST_CHARACTERS, _AT_LEAST_ONE = N_("at least %(min_length)s characters"), ("min_length", N_("at least 1 character"))
_AT_MOST_CHARACTERS, _AT_MOST_ONE = N_("at most %(max_length)s characters"), ("max_length", N_("at most 1 character"))

# Pydantic's error types (`type`), with the English message it gives each (its ctx as groups).
REASONS = {
    "missing": Wording(N_("required"), r"Field required"),
    "string_too_short": Wording(_AT_LEAST_CHARACTERS, r"String should have at least (?P<min_length>\d+) characters?", one=_AT_LEAST_ONE),
    "string_too_long": Wording(_AT_MOST_CHARACTERS, r"String should have at most (?P<max_length>\d+) characters?", one=_AT_MOST_ONE),
    "string_pattern_mismatch": Wording(_FORMAT, r"String should match pattern '(?P<pattern>.*)'"),
    "string_type": Wording(N_("must be text"), r"Input should be a valid string"),
    "int_parsing": Wording(_WHOLE, r"Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": Wording(_WHOLE, r"Input should be a valid integer, got a number with a fractional part"),
    "int_type": Wording(_WHOLE, r"Input should be a valid integer"),
    "float_parsing": Wording(N_("must be a number"), r"Input should be a valid number, unable to parse string as a number"),
    "decimal_parsing": Wording(N_("must be an amount such as 20.00"), r"Input should be a valid decimal"),
    "decimal_max_places": Wording(N_("at most %(decimal_places)s decimal places"),
                                  r"Decimal input should have no more than (?P<decimal_places>\d+) decimal places?"),
    "decimal_max_digits": Wording(N_("at most %(max_digits)s digits"),
                                  r"Decimal input should have no more than (?P<max_digits>\d+) digits? in total"),
    "greater_than": Wording(N_("must be more than %(gt)s"), rf"Input should be greater than (?P<gt>{_NUMBER})"),
    "greater_than_equal": Wording(N_("must be %(ge)s or more"), rf"Input should be greater than or equal to (?P<ge>{_NUMBER})"),
    "less_than": Wording(N_("must be less than %(lt)s"), rf"Input should be less than (?P<lt>{_NUMBER})"),
    "less_than_equal": Wording(N_("must be %(le)s or less"), rf"Input should be less than or equal to (?P<le>{_NUMBER})"),
    "date_parsing": Wording(_DATE, r"Input should be a valid date in the format YYYY-MM-DD, (?P<error>.*)"),
    "date_from_datetime_parsing": Wording(_DATE, r"Input should be a valid date or datetime, (?P<error>.*)"),
    "date_type": Wording(_DATE, r"Input should be a valid date"),
    "datetime_parsing": Wording(_DATETIME, r"Input should be a valid datetime, (?P<error>.*)"),
    "datetime_from_date_parsing": Wording(_DATETIME, r"Input should be a valid datetime or date, (?P<error>.*)"),
    "bool_type": Wording(_YES_NO, r"Input should be a valid boolean"),
    "bool_parsing": Wording(_YES_NO, r"Input should be a valid boolean, unable to interpret input"),
    "extra_forbidden": Wording(N_("is not asked for on this form"), r"Extra inputs are not permitted"),
    "literal_error": Wording(_ONE_OF, rf"Input should be {_CHOICES}"),
    "enum": Wording(_ONE_OF, rf"Input should be {_CHOICES}"),
    "too_short": Wording(N_("at least %(min_length)s items"), r"\w+ should have at least (?P<min_length>\d+) items? after validation.*",
                         one=("min_length", N_("at least 1 item"))),
    "too_long": Wording(N_("at most %(max_length)s items"), r"\w+ should have at most (?P<max_length>\d+) items? after validation.*",
                        one=("max_length", N_("at most 1 item"))),
    "uuid_parsing": Wording(N_("not a valid id"), r"Input should be a valid UUID, (?P<error>.*)"),
    "finite_number": Wording(N_("must be an ordinary number"), r"Input should be a finite number"),
    "int_parsing_size": Wording(N_("too many digits"), r"Unable to parse input string as an integer, exceeded maximum size"),
    # A validator's own words ("Value error, must not be blank"): worded below, as a sentence.
    "value_error": Wording("%(error)s", r"Value error, (?P<error>.*)", nested=("error",)),
    "assertion_error": Wording("%(error)s", r"Assertion failed, (?P<error>.*)", nested=("error",)),
}

# The services as a sentence names them ("points cannot be reached").
SERVICES = (N_("members"), N_("points"), N_("feedback"), N_("campaigns"), N_("gateway"))
_FORM_SENT = N_("This form was already used for something else: reload the page and fill it in again.")
_ERASED = N_("This customer's data was erased: nothing more can be recorded.")
_NO_USE = N_("No use is left.")

# What the services (and the console's own checks) are known to say to the forms of the console.
KNOWN = (
    # points: redeeming and handing over gifts, leftover-material visits
    Wording(N_("Not enough points: the balance is %(balance)s, the gift costs %(price)s."),
            r"balance (?P<balance>-?\d+) is below the price of (?P<price>\d+) points"),
    Wording(N_("Gift %(gift)s is out of stock at store %(store)s."), r"gift (?P<gift>\S+) is out of stock at store (?P<store>\S+)"),
    Wording(N_("Gift %(gift)s is not in the catalogue."), r"gift (?P<gift>\S+) is not in the catalogue"),
    Wording(N_("Gift %(gift)s cannot be redeemed here."), r"gift (?P<gift>\S+) has no price for the \S+ channel"),
    Wording(N_("Gift %(gift)s can be redeemed from %(date)s."), r"gift (?P<gift>\S+) is offered from (?P<date>\S+)"),
    Wording(N_("Gift %(gift)s could be redeemed until %(date)s."), r"gift (?P<gift>\S+) was offered until (?P<date>\S+)"),
    Wording(N_("This customer has no points account yet."), r"no points account for member \S+"),
    Wording(N_("The gift register entry was not found."), r"no gift (?:register entry|reservation) \S+"),
    Wording(N_("The gift is %(current)s: it cannot become %(target)s."),
            r"a gift register entry that is (?P<current>\w+) cannot become (?P<target>\w+)", codes=("current", "target")),
    Wording(N_("No gift is handed over for a coupon bought with points: it is issued."),
            r"a coupon bought with points is issued, not handed over, and cannot be .*"),
    Wording(N_("No home store is known for this customer yet: gifts are picked up at the home store."),
            r"no home store is known for this member yet: .*"),
    Wording(_NO_USE, r"no use left"),
    Wording(N_("No use is left: %(used)s of %(granted)s already used."), r"no use left: (?P<used>\d+) of (?P<granted>\d+) already used"),
    Wording(N_("must not be after today (%(today)s)"), r"must not be after today \((?P<today>\S+) in \S+\): .*"),
    Wording(_ERASED, r"(?:\w+: )?member is erased.*"),
    Wording(_ERASED, r"this customer's data was erased; nothing can be recorded"),
    Wording(_ERASED, r"member \S+ was erased on \S+; the profile is read-only"),
    Wording(N_("This customer's data was already erased, on %(when)s."), r"member \S+ was already erased on (?P<when>\S+)",
            moments=("when",)),
    # members: registering a customer, the tracking form
    Wording(N_("This phone number is already registered to another customer."),
            r"phone is already registered to another member"),
    Wording(N_("This card number is already registered to another customer."), r"card_no is already registered to another member"),
    Wording(N_("This phone number or card number is already registered."), r"phone or card_no is already registered"),
    Wording(N_("this card was retired (reported lost or damaged, or its holder's data erased) and is never issued again; "
               "hand over another card"), r"this card was retired .*"),
    Wording(N_("card %(card)s is not this customer's card (theirs is %(theirs)s)"),
            r"card (?P<card>\S+) is not this member's card \(theirs is (?P<theirs>\S+)\)"),
    Wording(N_("must not be in the future"), r"birthday is in the future"),
    Wording(N_("more than %(years)s years ago (the earliest taken is %(earliest)s)"),
            r"birthday is more than (?P<years>\d+) years ago \(the earliest taken is (?P<earliest>\S+)\)"),
    Wording(N_("%(date)s is in the future (today is %(today)s)"), r"is (?P<date>\S+), in the future \(today is (?P<today>\S+)\)"),
    Wording(N_("%(date)s is more than %(days)s days ago (the earliest taken is %(earliest)s)"),
            r"is (?P<date>\S+), more than (?P<days>\d+) days ago: .*\(the earliest taken is (?P<earliest>\S+)\)"),
    Wording(N_("must be after the day of this contact (%(contact)s)"), r"is \S+: must be after the day of this contact \((?P<contact>\S+)\)"),
    Wording(N_("must not be before today (%(today)s)"), r"is \S+: must not be before today \((?P<today>\S+)\)"),
    Wording(N_("%(date)s is more than %(days)s days ahead (the latest taken is %(latest)s)"),
            r"is (?P<date>\S+), more than (?P<days>\d+) days ahead \(the latest taken is (?P<latest>\S+)\)"),
    Wording(N_("The customer was not found."), r"no member \S+(?:: .*)?"),
    Wording(N_("This customer is not assigned to you."), r"this customer is not assigned to you"),
    Wording(N_("no such member of staff"), r"no staff member \S+"),
    Wording(N_("You are not an active account manager in the staff directory."),
            r"\S+ is not an active account manager in the staff directory"),
    Wording(N_("must not be blank"), r"must not be blank"),
    Wording(N_("must not contain control characters"), r"must not contain .*"),
    Wording(_DATE, r"must be a date written YYYY-MM-DD"),
    Wording(_YES_NO, r"must be true or false.*"),
    Wording(N_("not a valid e-mail address"), r"value is not a valid email address.*"),
    Wording(N_("must not be before the start"), r"must not be before from(?:_month)?"),
    Wording(N_("must be a date from %(first)s to %(last)s"), r"must be a date from (?P<first>\S+) to (?P<last>\S+)"),
    # feedback: a complaint's steps and its compensation
    Wording(N_("The complaint is %(status)s: %(why)s"), r"cannot \w+ a complaint that is (?P<status>\w+): (?P<why>.*)",
            codes=("status",), nested=("why",)),
    Wording(N_("it is closed; reopen it first")),
    Wording(N_("it is still open")),
    Wording(N_("only a resolved complaint can be closed")),
    Wording(N_("acknowledge it first")),
    Wording(N_("it is already resolved; reopen it first")),
    Wording(N_("it was already acknowledged")),
    Wording(N_("it is already in progress")),
    # A coupon's value is money, shown with its sign as everywhere on the console; points are a count.
    Wording(N_("more than the limit of ¥%(limit)s"), r"\S+ exceeds the limit of (?P<limit>\S+) \(CRM_COMPENSATION_COUPON_MAX\)"),
    Wording(N_("more than the limit of %(limit)s"), r"\S+ exceeds the limit of (?P<limit>\S+) \(CRM_COMPENSATION_\w+_MAX\)"),
    Wording(N_("Compensation was already granted on %(when)s: a complaint is compensated once."),
            r"compensation was already granted on (?P<when>\S+); a complaint is compensated once", moments=("when",)),
    Wording(N_("Only a member can be compensated: this complaint is anonymous."),
            r"compensation needs a member; this complaint is anonymous"),
    Wording(N_("Only a member can be compensated: this customer's data was erased."),
            r"compensation needs a member; the complaint's member is erased"),
    Wording(N_("The complaint was not found."), r"no complaint \S+"),
    Wording(N_("The campaign was not found."), r"no campaign \S+"),
    # campaigns: a coupon template, a campaign's launch and the steps after it
    Wording(N_("more off than the threshold to reach"), r"more off than the threshold to reach"),
    Wording(N_("A box this kind of coupon needs is empty: fill in %(field)s."), r"(?P<field>\w+) is required for an? \w+ coupon",
            fields=("field",)),
    Wording(N_("This kind of coupon does not take %(field)s: leave it empty."), r"(?P<field>\w+) does not apply to an? \w+ coupon",
            fields=("field",)),
    # A rule naming its field ("segment_id: a one-off campaign needs a segment") is worded here by
    # its reason, after the field's label: the box it names is marked, and called what it is called.
    Wording(N_("choose the segment a one-off campaign goes to"), r"a one-off campaign needs a segment"),
    Wording(N_("choose the occasion of a triggered campaign"), r"a triggered campaign needs one"),
    Wording(N_("only a triggered campaign has an occasion: leave it empty"), r"only a triggered campaign has one"),
    Wording(N_("a campaign gives a coupon, a message or both: choose a coupon template, or write the message"),
            r"a campaign gives a coupon, a message or both"),
    # A message telling each customer a coupon is in their wallet, of a campaign giving none
    # (campaigns' `unbacked_coupon`), at the coupon box.
    Wording(N_("“The coupon offered” tells each customer a coupon is in their wallet: choose the coupon template, "
               "or another message"),
            r"message template '[^']+' tells each member a coupon is in their wallet, and the campaign gives none: .*"),
    Wording(N_("must not be in the past: sales already booked keep the rules they were booked with")),
    # The campaign form gives a tip message's parameter from its tip field: lacking, it is said as
    # the form's box, not as the template's parameter.
    Wording(N_("a tip message needs its tip: write it in the tip box"),
            r"template '[^']+' needs tip, which this campaign does not supply: give them in message\.params"),
    Wording(N_("the message needs %(names)s, which the campaign does not give: choose a coupon for an offer, "
               "write the tip for a tip message"),
            r"template '[^']+' needs (?P<names>.+), which this campaign does not supply: give them in message\.params"),
    Wording(N_("The campaign is %(state)s: it cannot do that now."), r"an? (?P<state>\w+) campaign cannot \w+", codes=("state",)),
    Wording(N_("the campaign ended at %(when)s"), r"the campaign ended at (?P<when>\S+), .*"),
    Wording(N_("it would issue %(treated)s coupons where %(cap)s are allowed: raise the cap or narrow the segment"),
            r"the (?:campaign's budget|template) allows (?P<cap>\d+) coupons, the campaign would issue (?P<treated>\d+)"),
    Wording(N_("The community was not found."), r"no community \S+"),
    Wording(N_("The dead letter was not found."), r"no dead letter \S+"),
    # An address naming no dead letter (`dead_letters.parse_id`): a link typed or cut short by hand.
    Wording(N_("The address names no dead letter: a dead letter is named by its partition and offset, such as 0-1234."),
            r"id: a dead letter is named <partition>-<offset>"),
    Wording(N_("This dead letter was already replayed or discarded."), r"dead letter \S+ was already replayed or discarded"),
    Wording(N_("Not found."), r"Not Found|nothing is named .*"),
    Wording(N_("This complaint is not yours to handle."), r"complaint \S+ is not (?:yours|assigned to you)"),
    # every service: the form's key, the person's rights
    Wording(_FORM_SENT, r"Idempotency-Key \S+ was (?:already )?used for (?:a different|another) .*"),
    Wording(N_("The same form is being sent at this moment: wait a moment and try again."),
            r"Idempotency-Key \S+ is in use by a concurrent request; retry it"),
    # A store-bound token's refusals (`shared.policy.Grant`). The policy names the action refused in
    # brackets after some ("(members.infobase.read)"), for API clients: not for a person, and left out.
    Wording(N_("You work for store %(bound)s: choose your own store."),
            r"this token is bound to store (?P<bound>\S+), not None(?: \([\w.]+\))?"),
    Wording(N_("You work for store %(bound)s, not for store %(store)s."),
            r"this token is bound to store (?P<bound>\S+), not (?P<store>\S+)(?: \([\w.]+\))?"),
    # A customer's home store, the store field's reason: the token's store, the only one it may give.
    Wording(N_("only your own store %(bound)s"),
            r"this token is bound to store (?P<bound>\S+), not \S+; an? \w+ may only make their own store "
            r"a customer's home store \([\w.]+\)"),
    Wording(N_("Your account names no store."), r"an? \w+ token must name its store"),
    Wording(N_("only your own store %(bound)s"), r"\w+ may only see their own store (?P<bound>\S+) \(.*\)"),
    Wording(N_("Your role (%(role)s) may not do this."), r"role (?P<role>\w+) may not .*", codes=("role",)),
    Wording(N_("You may only act on the customers assigned to you."), r"account managers may only act on the customers assigned to them.*"),
    Wording(N_("You may only act on the customers of your own store."),
            r"store managers and desks may only act on the customers of their own store.*"),
    Wording(N_("The %(service)s service failed on this request, with an error of its own: tell the operators if it happens again."),
            r"(?P<service>\w+) failed with an error of its own \(\d+\)", codes=("service",)),
    # A service that does not answer (`console_reads.reach`), on every console page that calls one.
    Wording(N_("The %(service)s service does not answer now: try again in a moment."),
            r"(?P<service>\w+) (?:cannot be reached \(.*\)|is not configured|answered \d+)", codes=("service",)),
    # the console's own checks of its forms
    Wording(N_("The form is damaged or out of date: reload the page and fill it in again."),
            r"idempotency_key: missing or damaged: reload the form"),
    Wording(N_("The form has expired or did not come from the console: reload the page and try again."),
            r"the form has expired or did not come from the console: reload the page and try again"),
    Wording(N_("say which store the customer is served at")),
    Wording(N_("say which store's register to export")),
    Wording(N_("a whole number of units from 0 to %(most)s"), r"a whole number of units from 0 to (?P<most>\d+)"),
    Wording(N_("a page number from 1 to %(most)s"), r"a page number from 1 to (?P<most>\d+)"),
    Wording(N_("enter the units counted of at least one gift")),
    Wording(N_("YYYY-MM for a month or YYYY-Qn for a quarter, of the years 1000 to 9998")),
    Wording(N_("tick the box to confirm that the customer asked for the erasure")),
    Wording(N_("a whole number of points")),
    Wording(N_("an amount such as 20.00")),
    Wording(N_("choose 1 to 5")),
    Wording(N_("not a date and time (YYYY-MM-DDTHH:MM)")),
    Wording(N_("%(moment)s is too close to the ends of the calendar (the years 1 to 9999)"), r"(?P<moment>\S+) is outside the years 1 to 9999(?: in \S+ or in UTC)?"),
    # a job run by hand (`shared.jobs_api`): ahead of the clock, or one that reads the platform as it is now
    Wording(N_("%(moment)s is later than the service's clock (%(clock)s): a job runs for now or a past moment"),
            r"(?P<moment>\S+) is later than the service's clock \((?P<clock>[^,]+), allowing [^)]*\); a job runs for now or a past moment, never ahead of time",
            moments=("moment", "clock")),
    Wording(N_("this job reads how the platform is now: leave the moment empty"),
            r"job \S+ reads how the platform is now and cannot be run for a past moment; leave as_of out"),
    Wording(N_("The job %(job)s failed: the service's log has the error."), r"job (?P<job>\S+) failed; the service log has the error"),
    Wording(N_("There is no job %(job)s here; the jobs are: %(jobs)s"), r"no job (?P<job>\S+); jobs: (?P<jobs>.*)"),
    Wording(N_("say why the dead letter is discarded")),
    Wording(N_("required for this level")),
    Wording(N_("only staff of a store can narrow the queue to whom a complaint waits on")),
    Wording(_AT_MOST_CHARACTERS, r"at most (?P<max_length>\d+) characters?", one=_AT_MOST_ONE),
    # the gateway: a person's own password (logging in is worded by `render.refusal_message`)
    Wording(_AT_LEAST_CHARACTERS, r"at least (?P<min_length>\d+) characters?", one=_AT_LEAST_ONE),
    Wording(N_("must not begin or end with a space"), r"must not begin or end with white space"),
    Wording(N_("must differ from the current password")),
    Wording(N_("is not the same as the new password")),
    Wording(N_("choose at least one dead letter, or replay everything matching the filter")),
    Wording(N_("the dry run's count, a whole number")),
    Wording(N_("nothing to replay")),
    Wording(N_("at most %(count)s at once; replay by filter instead"), r"at most (?P<count>\d+) at once; replay by filter instead"),
    Wording(N_("%(now)s dead letters match now, not the %(expected)s of the dry run: run the dry run again."),
            r"(?P<now>\d+) dead letters match now, not the (?P<expected>-?\d+) of the dry run: run the dry run again",
            one=("now", N_("1 dead letter matches now, not the %(expected)s of the dry run: run the dry run again."))),
    # the gateway: staff accounts (`gateway.domain.staff`, `service_layer.staff`) and the stores they name
    Wording(N_("The login %(login)s is taken."), r"login (?P<login>\S+) is taken"),
    Wording(N_("The login %(login)s is taken, or the same form is being sent at this moment."),
            r"login (?P<login>\S+) is taken, or a creation under this Idempotency-Key is under way: send it again"),
    Wording(_FORM_SENT, r"the Idempotency-Key was used to create account \S+, not this one: send a new key"),
    Wording(N_("This form already added the account %(login)s with another password, or its password was set since: "
               "open the form again, or set the password on the account's page."),
            r"account (?P<login>\S+) was created with this key and another password, or its password was set since: .*"),
    Wording(N_("This form already added the account %(login)s, which has been used or changed since: set a new "
               "password on its page if the first one was lost."),
            r"account (?P<login>\S+) was created with this key and is in use or was changed since: .*"),
    Wording(N_("%(login)s is the last active admin account: make another account an admin first."),
            r"(?P<login>\S+) is the last active admin account; make another admin first"),
    Wording(N_("2 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")),
    Wording(N_("the role %(role)s works for one store: name the store"), r"the role (?P<role>\w+) works for one store: store_id is required",
            codes=("role",)),
    Wording(N_("the role %(role)s is not bound to a store: leave it empty"), r"the role (?P<role>\w+) is not bound to a store", codes=("role",)),
    Wording(N_("an account manager needs their staff-directory id: it is how their customers are found")),
    Wording(N_("the role %(role)s is not in the staff directory: leave it empty"), r"the role (?P<role>\w+) is not in the staff directory",
            codes=("role",)),
    Wording(N_("1 to 64 letters, digits, '.', '_' or '-', not beginning with '.'")),
    Wording(N_("stf_ and 16 hex digits is how this platform names accounts, not a staff-directory id")),
    Wording(N_("%(id)s is already the staff-directory id of the active account %(holder)s"),
            r"(?P<id>\S+) is the staff-directory id of the active account (?P<holder>\S+)"),
    Wording(N_("The staff account was not found."), r"no staff account \S+"),
    Wording(N_("unknown or closed store %(store)s"), r"unknown or inactive store (?P<store>\S+)"),
    Wording(N_("unknown store %(store)s"), r"unknown store (?P<store>\S+)"),
    # the gateway: tills and services (`gateway.domain.identity`, `service_layer.identity`)
    Wording(N_("a till is bound to one store: name the store"), r"a till is bound to one store: store_id is required"),
    Wording(N_("a till names no service: leave it empty"), r"a till does not name a service"),
    Wording(N_("a service client names its service: fill it in"), r"a service client names its service: service is required"),
    Wording(N_("one of the platform's services: %(services)s (as written here)"),
            r"a service client is one of the platform's services: (?P<services>[a-z, ]+)"),
    Wording(N_("a service client is not bound to a store: leave it empty"), r"a service client is not bound to a store"),
    Wording(N_("unknown store %(store)s"), r"no store (?P<store>\S+); add it with PUT \S+ first"),
    Wording(N_("store %(store)s is closed"), r"store (?P<store>\S+) is not active"),
    Wording(N_("The till or service was not found."), r"no client \S+"),
    Wording(N_("This till or service is revoked: enrol a new one."), r"client \S+ is revoked; enroll a new one"),
    Wording(N_("tick the box to confirm that the till or service is to be revoked")),
    # campaigns: segments
    Wording(N_("a segment of this name exists already"), r"a segment named .* exists already"),
    # A segment archived since the campaign was drafted (its launch, a new campaign naming it, a change).
    Wording(N_("the segment was archived: choose an active segment, or save a new one"), r"segment \S+ is archived; create a new one"),
    # gateway: a person setting up their own second factor (`service_layer.second_factor`)
    Wording(N_("Two-step login is on already. For a lost or new phone, an admin removes it first."),
            r"a second factor is enrolled already; for a lost or new phone an admin removes it first"),
    Wording(N_("Two-step login is not being set up: start again from your password page."),
            r"no second factor is being set up: start again"),
    Wording(N_("this is not the code the app shows now (check the phone's clock)"),
            r"is not the code the app shows now \(check the phone's clock\)"),
    Wording(N_("Nothing is on the promotion list now, so there is nothing to offer."),
            r"promotions: nothing is on the promotion list now, so there is nothing to offer"),
    # campaigns: a promotion (`PromotionIn`), the rules of its whole body located by the form
    Wording(N_("give a SKU or a category, one of them"), r"sku, category: give exactly one of them"),
    Wording(N_("give a SKU or a category")),  # neither given (`console_promotions`)
    Wording(N_("give one of a promotional price, an amount off and a percent off"),
            r"price, amount_off, percent_off: give exactly one of them"),
    Wording(N_("a promotional price is for a SKU; for a category give an amount or a percent off"),
            r"a promotional price is for a SKU; a category takes amount_off or percent_off"),
    Wording(N_("give the usual unit price, above the promotional price"), r"give the usual unit price, above the promotional price"),
    Wording(N_("goes with a promotional price only"), r"goes with price only"),
    Wording(N_("a percent off needs its cap, and only it has one"), r"a percent_off promotion needs its cap, and only it has one"),
    Wording(N_("must be after its start"), r"must be after valid_from"),
    # Its end has passed (campaigns words the moment in the chain's zone, `%Y-%m-%dT%H:%M%z`).
    Wording(N_("%(when)s has passed: no offer list could ever carry this promotion"),
            r"(?P<when>\S+) has passed: no offer list could ever carry this promotion", moments=("when",)),
    # points: a bulk bonus by card numbers
    Wording(N_("no customer's account holds %(cards)s"), r"no points account holds (?P<cards>.+)"),
    # points: an earning rule's rates (`EarningRuleIn`), located at their line by the form
    Wording(N_("%(rate)s must be above 0, at most 100, with at most 4 decimals"),
            r"(?P<rate>\S+) must be above 0, at most 100, with at most 4 decimals"),
    Wording(N_("%(rate)s must be 0 or more, at most 100, with at most 4 decimals"),
            r"(?P<rate>\S+) must be 0 or more, at most 100, with at most 4 decimals"),
    Wording(N_("%(categories)s also excluded: give a category a multiplier or exclude it"),
            r"(?P<categories>[^:]+) also in excluded_categories; give a category a multiplier or exclude it"),
    Wording(N_("line %(number)s is not “name = rate”: %(line)s"), r"line (?P<number>\d+) is not 'name = rate': (?P<line>.*)"),
    # The name alone: "store_rates: S001 is given twice" is the box's refusal, told under its label.
    Wording(N_("%(name)s is given twice"), r"(?P<name>[^:]+) is given twice"),
    # A range of a segment's rule (`campaigns.domain.segments`): the form's "at least" above its "at most".
    Wording(N_("the lower bound is above the upper one"), r"(?:value: )?between needs low <= high"),
)


def sentence(text: str, gettext: Gettext) -> str | None:
    """A sentence the services are known to say, in the person's language; None if it is not known."""
    text = text.strip()
    for wording in KNOWN:
        if found := wording.pattern.fullmatch(text):
            return wording.say(found.groupdict(), gettext)
    return None


def reason(error: Mapping[str, Any], gettext: Gettext, name: str = "") -> str:
    """Why field `name` was refused: from the error's `type` and `ctx` where given, else from its
    English `msg` (pydantic's message of a type, or a sentence known here), else that `msg` as it is."""
    msg = str(error.get("msg") or "").strip()
    typed = REASONS.get(str(error.get("type")))
    for wording in ([typed] if typed else []) + list(REASONS.values()):
        found = wording.pattern.fullmatch(msg)
        if found is None and wording is not typed:
            continue
        # The message's own values first: a service's summary of `ctx` may quote them ('"x"').
        values = {**dict(error.get("ctx") or {}), **(found.groupdict() if found else {})}
        if all(values.get(group) is not None for group in wording.pattern.groupindex):
            return _said_for(wording, values, error, name, gettext)
    return sentence(msg, gettext) or msg


def _said_for(wording: Wording, values: dict[str, Any], error: Mapping[str, Any], name: str, gettext: Gettext) -> str:
    """`wording` of field `name`, unless what the field is says it better: a box left empty is
    required, whatever length the service asks of a text (a form sends an empty box as ""); a choice
    of 'yes' alone is a box to tick; a pattern or a decimal is said as the field's own."""
    if wording is REASONS["string_too_short"] and (error.get("input") == "" or str(values.get("min_length")) == "1"):
        return REASONS["missing"].say({}, gettext)  # nothing is shorter than 1 character but nothing
    if wording.message == _ONE_OF and re.fullmatch(r"['\"]yes['\"]", str(values.get("expected", "")).strip()):
        return gettext(_TICK)
    if wording is REASONS["string_pattern_mismatch"] and name in FORMATS:
        return gettext(FORMATS[name])
    if wording is REASONS["decimal_parsing"] and name in NUMBERS:
        return gettext(NUMBERS[name])
    return wording.say(_choices(values, gettext, name), gettext)


def _choices(values: dict[str, Any], gettext: Gettext, name: str = "") -> dict[str, Any]:
    """A literal's choices ("'phone', 'sms' or 'wechat'") each put into words: as field `name`'s
    form offers them (`CHOICES`), else as the code is shown."""
    if isinstance(expected := values.get("expected"), str):
        codes = re.findall(r"'([^']*)'", expected) or re.split(r", | or ", expected)
        offered = CHOICES.get(name, {})
        values = {**values, "expected": " / ".join(gettext(offered.get(code, code)) for code in codes if code)}
    return values


def label(name: str, gettext: Gettext, shown_as: str = "") -> str:
    """The form's label of a field, or its name as the service gives it. A part of a box's value
    (`channel_rates.partner`, a line of the rates' box) is the box's label and the part, as the
    form shows the part where it says so (`shown_as`: a gift's name for the count of `count.pillow`)."""
    known = LABELS.get(name) or LABELS.get(name.rpartition(".")[2])
    if known:
        return gettext(known)
    box, _, part = name.partition(".")
    return f"{gettext(PART_LABELS.get(box) or LABELS[box])} {shown_as or part}" if part and box in LABELS else name


def field_of(loc: Iterable[Any]) -> str:
    """`["body", "consents", "sms"]` -> `consents.sms`, as the services name a field below its place.
    A mapping's bad key is named by the key (`channel_rates.foo`), without the `[key]` validation
    appends to say it was the key and not its value: as `field_names` names the box it marks."""
    parts = [str(part) for part in loc if part != "[key]"]
    return ".".join(parts[1:] if parts and parts[0] in ("body", "query", "path", "header") else parts)


def explain(detail: Any, gettext: Gettext) -> str:
    """A refusal's `detail` (pydantic's list, or a string) as the person is told it."""
    if isinstance(detail, list) and detail and all(isinstance(e, Mapping) for e in detail):
        # A rule of the whole body at the field its message names, as the form marks it.
        named = [(label(name, gettext, str(e.get("shown_as") or "")), reason(e, gettext, name))
                 for e in at_form_fields(detail) for name in [field_of(e.get("loc") or ())]]
    else:
        text = str(detail).strip()
        if (known := sentence(text, gettext)) is not None:
            return known
        named = [(label(name, gettext), reason({"msg": why}, gettext, name)) for name, why in problems(text)]
        if not named:
            return gettext(N_("Refused by the system: %(detail)s")) % {"detail": text}
    lines = [gettext(N_("%(field)s: %(reason)s")) % {"field": shown, "reason": why} if shown else why for shown, why in named]
    return gettext(N_("; ")).join(lines)
