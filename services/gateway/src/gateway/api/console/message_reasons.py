"""Why a message to a customer was held back or cancelled, as the customer's page shows it beside
the message's status. Campaigns records the reason in English for its API and logs ("quiet hours",
"no service_tips_sms consent"); the staff reading the page are told it in their language, worded
like the refusals of the forms (`refusals.Wording`). A reason not known here is shown as written."""

from gateway.api.console.i18n import N_
from gateway.api.console.refusals import Gettext, Wording

# The consent purposes a message may need (members' purposes), as the reasons name them.
PURPOSES = (N_("marketing_sms"), N_("marketing_email"), N_("service_tips_sms"))

KNOWN = (
    Wording(N_("quiet hours")),
    Wording(N_("no consent to %(purpose)s"), r"no (?P<purpose>\w+) consent", codes=("purpose",)),
    Wording(N_("consent to %(purpose)s does not cover the %(channel)s channel"),
            r"(?P<purpose>\w+) does not cover the (?P<channel>\w+) channel", codes=("purpose", "channel")),
    Wording(N_("weekly cap: %(count)s marketing messages in the last 7 days (cap %(cap)s)"),
            r"weekly cap: (?P<count>\d+) marketing messages in the last 7 days \(cap (?P<cap>\d+)\)"),
    Wording(N_("the customer was erased"), r"the member was erased"),
)


def message_reason(reason: str, gettext: Gettext) -> str:
    for wording in KNOWN:
        if found := wording.pattern.fullmatch(reason.strip()):
            return wording.say(found.groupdict(), gettext)
    return reason
