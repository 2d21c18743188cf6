"""Rendering the console's pages: one Jinja2 environment per language, the context every page
gets (the user, the language, the CSRF token, the menu), the cookies a page sends back, and the
pages shown for a refusal, a missing session or a forbidden page."""

import logging
import posixpath
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, cast
from urllib.parse import unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from gateway.api.console.i18n import LANG_COOKIE, LANGUAGES, N_, language_of, translations
from gateway.api.console.refusals import CHOICES, explain
from gateway.api.console.session import (
    CSRF_COOKIE,
    PATH,
    SESSION_COOKIE,
    ConsoleUser,
    LoginNeeded,
    csrf_token,
    secure_cookies,
)
from gateway.console import TEMPLATES
from gateway.domain import audit_details
from gateway.domain.refusals import field_names
from gateway.domain.staff import LoginFailed, SecondFactorNeeded, SecondFactorWrong
from gateway.service_layer.console_reads import ServiceRefused
from shared.auth import Role
from shared.erasure import ERASED_NAME
from shared.errors import Invalid, ServiceError, TooManyRequests
from shared.policy import POLICY, AccessDenied
from shared.validation_errors import as_text_length

log = logging.getLogger(__name__)
OPERATORS = frozenset({Role.OPERATOR, Role.ADMIN})


# Product categories as the tills and the demo name them (a chain's own codes show as they come);
# the forms that take a category offer these and read the names shown for them as their codes.
PRODUCT_CATEGORIES = (
    N_("baby"), N_("bread"), N_("condiments"), N_("dairy"), N_("drinks"), N_("eggs"), N_("electrical"), N_("fresh"),
    N_("frozen"), N_("fruit"), N_("grain"), N_("household"), N_("liquor"), N_("noodles"), N_("oil"), N_("paint"),
    N_("personal_care"), N_("pet"), N_("plumbing"), N_("snacks"), N_("tiles"), N_("tobacco"), N_("vegetables"),
)

# Words that reach the templates as data and are translated there: roles, job triggers, the
# states of dead letters and of replays, contact methods, churn risks, urgencies, value classes, tiers,
# the states of gift redemptions, segments and campaigns, message channels, service entitlements,
# complaints' categories, states and channels, points ledger entries, the states of coupons and
# of messages, and the templates of messages.
SHOWN_AS_DATA = (
    N_("service_desk"), N_("account_manager"), N_("store_manager"), N_("marketing"), N_("admin"), N_("operator"),
    N_("schedule"), N_("by hand"), N_("phone"), N_("sms"), N_("wechat"), N_("home_visit"), N_("in_store"),
    N_("low"), N_("medium"), N_("high"), N_("lost"), N_("unknown"),
    N_("overdue"), N_("soon"), N_("later"), N_("none"), N_("key"), N_("secondary"), N_("ordinary"),
    N_("treatment"), N_("control"), N_("open"), N_("replayed"), N_("discarded"), N_("running"), N_("finished"), N_("interrupted"),
    N_("member"), N_("vip"), N_("reserved"), N_("handed_over"), N_("cancelled"), N_("completed"),
    N_("active"), N_("archived"), N_("draft"), N_("scheduled"), N_("paused"), N_("ended"), N_("email"),
    N_("leftover_collection_visit"),
    N_("product_quality"), N_("service_attitude"), N_("checkout_queues"), N_("finding_goods"), N_("store_environment"),
    N_("price"), N_("returns_after_sales"), N_("delivery"),
    N_("filed"), N_("acknowledged"), N_("in_progress"), N_("resolved"), N_("closed"), N_("app"), N_("web"), N_("comment_book"),
    N_("earn"), N_("reverse"), N_("redeem"), N_("cancel_redeem"), N_("adjust"), N_("bonus"), N_("expire"),
    N_("issued"), N_("redeemed"), N_("released"), N_("reversed"), N_("withdrawn"), N_("expired"),
    N_("queued"), N_("deferred"), N_("sent"), N_("delivered"), N_("failed"),
    N_("inbox"), N_("vip_welcome"), N_("survey_invitation"), N_("coupon_offer"), N_("offer_list"), N_("points_expiry"),
    N_("service_tip"), N_("signin_code"),
    N_("till"), N_("service"),  # the kinds of identity clients
    *PRODUCT_CATEGORIES,
    # Choices a console address may carry, named in a refusal of one it does not offer.
    N_("desk"), N_("communities"), N_("customers"), N_("purchases"), N_("monthly"), N_("quarterly"),
)


# Members' value classes (docs/members.md, "80/20 classes"), each by the message that words it. "none"
# is a class of its own, the customers with no net spend in the analytics window; worded as the
# code, "None" / "无", it read as a customer without a class. A class not named here keeps its code.
VALUE_CLASSES = {"key": N_("key"), "secondary": N_("secondary"), "ordinary": N_("ordinary"),
                 "none": N_("No net spend in the window")}


def value_class(code: str) -> str:
    """The message of value class `code`, translated where it is shown (`_(v|value_class)`)."""
    return VALUE_CLASSES.get(code, code)


# An erased customer as the console names them: members keeps the placeholder `ERASED_NAME` (in
# Chinese) as their name, and every page that names a customer words it in the person's language.
ERASED_CUSTOMER = N_("Erased customer")


def customer_name(name: str, gettext: Callable[[str], str]) -> str:
    """A customer's name as members gives it, an erased customer's placeholder in `gettext`'s language."""
    return gettext(ERASED_CUSTOMER) if name == ERASED_NAME else name


@pass_context
def customer(context: Context, name: str | None) -> str | None:
    """`customer_name` on a page (`profile.name|customer`); no name stays none (`or member_id`)."""
    return customer_name(name, translations(language_of(context.get("lang"))).gettext) if name else name


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
    )
    # Escaped: under autoescape, Jinja marks what gettext answers as safe HTML, and a code shown
    # through `_()` that the catalogue does not know is answered as it came (a status a service
    # added, or text that is no code at all) and would be written into the page unescaped.
    words = translations(language)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: escape(words.gettext(message)),
        ngettext=lambda singular, plural, n: escape(words.ngettext(singular, plural, n)),
        newstyle=True,
    )
    env.filters["local_time"] = local_time
    env.filters["last_moment"] = last_moment
    env.filters["local_input"] = local_input
    env.filters["summary"] = summary
    env.filters["money"] = money
    env.filters["points"] = points
    env.filters["value_class"] = value_class
    env.filters["customer"] = customer
    env.filters["job_summary"] = job_summary
    env.filters["job_figure"] = job_figure
    env.filters["audit_facts"] = lambda entry: audit_details.facts(entry.action, entry.detail)
    env.globals["refused"] = refused
    env.globals["choices"] = CHOICES  # a box's options in the words its refusals use
    return env


def _names(field: str, refused_name: str) -> bool:
    """Whether a form's field is the one a refusal names (`phone`), or a part of it (`count.pillow`
    names the box `pillow`; `consents.sms` the box `consents`): console.js's rule for a refusal
    swapped into a form, for the fields of a page rendered whole."""
    return field in (refused_name, refused_name.split(".")[-1], refused_name.split(".")[0])


@pass_context
def refused(context: Context, field: str, area: str) -> Markup:
    """The attributes of a field of a page rendered again with its refusal (`refused_query_page`):
    marked invalid and described by the message area `area`, as console.js marks a form's fields
    after an htmx refusal, which does not run for a page loaded whole; the first field refused
    takes the focus. Nothing for a field not refused."""
    fields = context.get("fields") or []
    if not any(_names(field, name) for name in fields):
        return Markup("")
    marks = Markup(' aria-invalid="true" aria-describedby="{}"').format(area)
    return marks + Markup(" autofocus") if _names(field, fields[0]) else marks


def money(value: Decimal | str | int | None) -> str:
    """An amount in yuan as the chain's staff read one: ¥, the thousands grouped, two decimals
    (¥1,264.70, -¥12.50). The services send amounts as strings; one that is no amount is shown as
    it came, and no amount at all as nothing."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    amount = amount.quantize(Decimal("0.01"))
    return f"{'-' if amount < 0 else ''}¥{abs(amount):,.2f}"


def points(value: int | str | None) -> str:
    """A count of points as the staff read a figure: the thousands grouped as in an amount of money
    (12,643, -1,500). One that is no whole number is shown as it came, and none at all as nothing."""
    if value is None or value == "":
        return ""
    try:
        count = int(str(value))
    except ValueError:
        return str(value)
    return f"{count:,}"


@pass_context
def local_time(context: Context, value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(context["zone"]).strftime("%Y-%m-%d %H:%M:%S")


@pass_context
def last_moment(context: Context, value: datetime | str | None) -> str:
    """The last second before an exclusive end, as `local_time` shows a moment: a coupon valid to the
    end of 21 December ends at 22 December 00:00, and "valid until 2026-12-22 00:00:00" reads as
    good on the 22nd."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local_time(context, moment - timedelta(seconds=1))


def _code_word(words: Callable[[str], str], code: str) -> str:
    """A code that reaches the pages as data (`SHOWN_AS_DATA`, a value class) in words; else as it is."""
    if code in VALUE_CLASSES:
        return words(value_class(code))
    return words(code) if code in SHOWN_AS_DATA else code


@pass_context
def summary(context: Context, value: Any) -> str:
    """A value of a job's summary as the operator reads it: a moment (as ISO text, with its offset)
    in the chain's local time, a mapping as `name: value` pairs, a list as its items, anything else
    as it came; the services write these as JSON and each job names its own figures."""
    words = translations(language_of(context.get("lang"))).gettext
    if isinstance(value, Mapping):
        # A count by code (value classes, churn risks, channels), each code in words as the pages
        # show it; any other key as the job wrote it, never a catalogue word that happens to match.
        pair = words(N_("%(name)s: %(value)s"))
        return words(N_(", ")).join(pair % {"name": _code_word(words, str(name)), "value": summary(context, item)}
                                    for name, item in value.items())
    if isinstance(value, list | tuple):
        return words(N_(", ")).join(summary(context, item) for item in value)
    if isinstance(value, bool):
        return words(N_("yes") if value else N_("no"))
    if isinstance(value, str) and _MOMENT.fullmatch(value):
        return local_time(context, value)
    return str(value)


# The figures the jobs name in their summaries (`shared.jobs`: each job returns its own), in words
# the catalogue puts into the operator's language. A figure not named here keeps the job's key.
JOB_FIGURES = {
    # gateway
    "newly_revoked": N_("newly revoked"), "no_longer_held": N_("no longer revoked"), "sessions_deleted": N_("sessions deleted"),
    "codes": N_("expired sign-in codes deleted"), "refresh_tokens": N_("expired refresh tokens deleted"),
    "samples": N_("samples recorded"),
    # campaigns
    "released": N_("coupon reservations released"), "started": N_("campaigns started"), "ended": N_("campaigns ended"),
    "due": N_("due now"), "sent": N_("sent"), "delivered": N_("delivered"), "deferred": N_("deferred"),
    "retrying": N_("retrying"), "failed": N_("failed"), "cancelled": N_("cancelled"), "waiting": N_("waiting"),
    "built": N_("built"), "already": N_("already built"), "reason": N_("reason"), "round_id": N_("round"),
    "key": N_("round key"), "campaign_id": N_("campaign"), "status": N_("status"), "members": N_("members reached"),
    "personal": N_("personal lists"), "general": N_("general lists"), "held_out": N_("held out"),
    # feedback
    "overdue": N_("overdue"), "escalated": N_("escalated"),
    # members
    "review_date": N_("review date"), "held_now": N_("held now"), "demoted": N_("demoted"), "job": N_("job"),
    "today": N_("today"), "birthdays_from": N_("birthdays from"), "birthdays_until": N_("birthdays until"),
    "announced": N_("announced"), "as_of": N_("as of"), "window_days": N_("window (days)"),
    "members_total": N_("members in total"), "buyers": N_("buyers"), "classes": N_("value classes"),
    "churn": N_("churn risks"), "published": N_("published"), "skipped": N_("skipped"),
    # every service's processed-events-cleanup
    "deleted": N_("processed event ids deleted"),
    # members' value analytics (docs/members.md, "80/20 classes")
    "window_spend_total": N_("spend in the window"), "top_fraction": N_("top fraction of buyers"),
    "top_share": N_("their share of the spend"), "key_share_boundary": N_("key customers' share, as set"),
    "secondary_share_boundary": N_("key and secondary customers' share, as set"),
    "key_share_actual": N_("key customers' share, as reached"), "key_min_spend": N_("least spend of a key customer"),
    "secondary_min_spend": N_("least spend of a secondary customer"),
    "population_interval_days": N_("typical days between purchases"), "churn_complaint_days": N_("days a complaint weighs on churn"),
    "snapshots_changed": N_("snapshots changed"), "reused": N_("the day's result reused"),
    # points
    "jobs": N_("bulk bonus jobs"), "booked": N_("booked"), "snapshots": N_("snapshots"), "pruned": N_("pruned"), "members_checked": N_("members checked"),
    "points_expired": N_("points expired"), "expiry_entries": N_("expiry entries"), "warnings": N_("expiry warnings"),
}


@pass_context
def job_figure(context: Context, name: str) -> str:
    """A figure of a job's summary named in the operator's language, else by the job's key."""
    return translations(language_of(context.get("lang"))).gettext(JOB_FIGURES[name]) if name in JOB_FIGURES else name


@pass_context
def job_summary(context: Context, value: Any) -> str:
    """A job's summary as `summary` shows it, each figure named by `job_figure` rather than by the
    key the job wrote."""
    if not isinstance(value, Mapping):
        return summary(context, value)
    words = translations(language_of(context.get("lang"))).gettext
    pair = words(N_("%(name)s: %(value)s"))
    return words(N_(", ")).join(pair % {"name": job_figure(context, name), "value": summary(context, item)}
                                for name, item in value.items())


# ISO 8601 with a time and an offset, as the services write moments: a date alone is no moment.
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


@pass_context
def local_input(context: Context, value: datetime | None) -> str:
    """A moment as a `datetime-local` field shows it: the chain's wall-clock time, the zone its
    forms are read in (`zone_of`), so that a form sent back unchanged names the same moment."""
    return value.astimezone(context["zone"]).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


def zone_of(request: Request) -> ZoneInfo:
    """The chain's local time (CRM_BUSINESS_TIMEZONE, as every service reads it): the console shows
    times in it and reads the dates and times of its forms in it."""
    return cast(ZoneInfo, request.app.state.settings.zone)


def today(request: Request) -> date:
    """The chain's date now, by the gateway's clock."""
    return cast(datetime, request.app.state.clock()).astimezone(zone_of(request)).date()


def gettext_of(request: Request) -> Any:
    return translations(language_of(request.cookies.get(LANG_COOKIE))).gettext


def menu(user: ConsoleUser | None) -> list[tuple[str, str]]:
    """(path, English label) of the pages the user's role may open; labels are translated in the
    template."""
    if user is None:
        return []
    items = [("/console", N_("Home"))]
    role = user.principal.role
    if role in POLICY["gateway.customer360.read"]:
        items.append(("/console/customers", N_("Customer search")))
    if role in POLICY["points.redemption.handle"]:
        items.append(("/console/desk", N_("Service desk")))
    if role in POLICY["points.stock.write"]:
        items.append(("/console/desk/stock", N_("Gift stock")))
    if role in POLICY["feedback.complaint.handle"]:
        items.append(("/console/complaints", N_("Complaints")))
    if role in POLICY["members.infobase.read"]:
        items.append(("/console/infobase", N_("Information base")))
    if role in POLICY["members.tracking.record"]:
        items.append(("/console/tracking", N_("Tracking")))
    elif role in POLICY["members.tracking.read"]:
        # Store managers and admins keep no queue of their own: they read their managers' reports.
        items.append(("/console/tracking/report", N_("Tracking reports")))
    if role in POLICY["members.tracking.unassigned"]:
        items.append(("/console/tracking/unassigned", N_("VIPs without a manager")))
    if role in POLICY["members.evaluation.read"]:
        items.append(("/console/evaluations", N_("Evaluation")))
    if role in POLICY["members.analytics.read"]:
        items.append(("/console/analytics", N_("Analytics")))
    if role in POLICY["points.rule.read"]:
        items.append(("/console/earning-rules", N_("Earning rules")))
    if role in POLICY["points.bulk_bonus.run"]:
        items.append(("/console/bonuses", N_("Bulk bonuses")))
    if role in POLICY["campaigns.campaign.read"]:
        items += [("/console/segments", N_("Segments")), ("/console/campaigns", N_("Campaigns"))]
    if role in POLICY["campaigns.promotion.read"]:
        items.append(("/console/promotions", N_("Promotions")))
    if role in POLICY["gateway.staff.read"]:
        items.append(("/console/accounts", N_("Staff accounts")))
    if role in POLICY["gateway.identity_client.read"]:
        items.append(("/console/clients", N_("Tills and services")))
    if role in OPERATORS:
        items += [("/console/ops/health", N_("Health")), ("/console/ops/event-flow", N_("Event flow")),
                  ("/console/ops/dead-letters", N_("Dead letters")), ("/console/ops/jobs", N_("Jobs"))]
    return items


def on_the_console(target: str) -> bool:
    """Whether `target` (a path and query to go back to) stays on the console: `/console/../x`
    starts like a console address and is not one, nor `/console/%2e%2e/x`, which browsers read
    as the same (a `%2e` segment is a dot to them). A control character is none either: urlsplit
    and browsers drop a tab or a line break where they read an address, and in the `HX-Redirect`
    header a line break would end it."""
    parts = urlsplit(target)
    path = unquote(parts.path)
    return (not (parts.scheme or parts.netloc) and "\\" not in target and target.isprintable()
            and posixpath.normpath(path) == path.rstrip("/")
            and (path == PATH or path.startswith(PATH + "/")))


def _back(request: Request) -> str:
    """Where the language switch returns to: this page with its query (its filters); for the
    answer to a form, which has no address of its own, the page the form was on."""
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        here = referer.path + (f"?{referer.query}" if referer.query else "")
    return here if on_the_console(here) else PATH


def shown_once(request: Request, user: ConsoleUser, partial: str, whole: str, *, replaces_page: bool = False,
               **context: Any) -> HTMLResponse:
    """The answer to a form that made a secret or a password, shown this once: with htmx the fragment
    `partial`, in place of the page's content when `replaces_page` (no form is left to send again)
    or else in the form's message area; without scripts the page `whole`. Never an address to go to,
    where a browser's history or a proxy's log would keep the secret."""
    if not request.headers.get("HX-Request"):
        return page(request, whole, user, **context)
    response = page(request, partial, user, **context)
    if replaces_page:
        response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
    return response


def page(request: Request, template: str, user: ConsoleUser | None = None, status_code: int = 200, **context: Any) -> HTMLResponse:
    language = language_of(request.cookies.get(LANG_COOKIE))
    csrf = csrf_token(request)
    html = environment(language).get_template(template).render(
        request=request, user=user, lang=language, languages=LANGUAGES, csrf=csrf, menu=menu(user),
        path=request.url.path, back=_back(request), zone=zone_of(request), **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    keep_cookies(request, response)
    return response


def keep_cookies(request: Request, response: Response) -> None:
    """Sends back what this request changed: a new CSRF token, refreshed session tokens."""
    secure = secure_cookies(request)
    if (csrf := getattr(request.state, "console_csrf", None)) is not None:
        response.set_cookie(CSRF_COOKIE, csrf, path=PATH, httponly=True, secure=secure, samesite="strict")
    if (session := getattr(request.state, "console_session", None)) is not None:
        value, max_age = session
        response.set_cookie(SESSION_COOKIE, value, max_age=max_age, path=PATH, httponly=True, secure=secure, samesite="strict")


def downloaded(request: Request, answer: httpx.Response) -> Response:
    """A service's file (a CSV, a workbook) handed on as the service wrote it, with its name."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "content-disposition"}
    response = Response(answer.content, media_type=answer.headers.get("content-type", "text/csv"), headers=headers)
    # A session refreshed to serve the download must reach the browser, or its next page would
    # present the spent refresh token and end the session as a stolen one.
    keep_cookies(request, response)
    return response


def go(request: Request, location: str) -> Response:
    """A redirect after a form post: htmx follows `HX-Redirect`, a plain form the 303."""
    response: Response
    if request.headers.get("HX-Request"):
        response = Response(status_code=204, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    keep_cookies(request, response)
    return response


def on_console(request: Request) -> bool:
    return request.url.path == PATH or request.url.path.startswith(PATH + "/")


def _going_to(request: Request) -> str:
    """The console page a request without a live session was for, to go on to after logging in:
    a page's own address; for an htmx fragment, the page it was loaded into (htmx names it); for a
    form, the page the form was on."""
    if request.headers.get("HX-Request"):
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        here = shown.path + (f"?{shown.query}" if shown.query else "")
        return here if on_the_console(here) else PATH
    return _back(request)


async def login_needed(request: Request, exc: Exception) -> Response:
    going = _going_to(request)
    query = {"next": going} if going != PATH else {}
    if isinstance(exc, LoginNeeded) and exc.idle:
        query["ended"] = "idle"
    response = go(request, "/console/login" + (f"?{urlencode(query)}" if query else ""))
    response.delete_cookie(SESSION_COOKIE, path=PATH, secure=secure_cookies(request), httponly=True, samesite="strict")
    return response


class CurrentPasswordWrong(LoginFailed):
    """A login refused on a person's own password form: the login is the session's own, so what is
    wrong is the current password, said so and marked on its box. The login page's words ("wrong
    login or password", no box marked) name a box that form does not have."""


def refusal_message(request: Request, exc: ServiceError) -> str:
    """What the person is told, in their language where the refusal is one the console expects."""
    _ = gettext_of(request)
    # The most specific first: a wrong code is a SecondFactorNeeded, and both are LoginFailed.
    if isinstance(exc, SecondFactorWrong):
        return str(_("The one-time code is wrong."))
    if isinstance(exc, SecondFactorNeeded):
        return str(_("Enter the one-time code of your authenticator app as well."))
    if isinstance(exc, CurrentPasswordWrong):
        return str(_("The current password is wrong."))
    if isinstance(exc, LoginFailed):
        return str(_("Wrong login or password."))
    if isinstance(exc, TooManyRequests):
        return str(_("Too many attempts; wait a few minutes and try again."))
    # A service's refusal is worded from what it answered (console_reads); the log keeps its English.
    return explain(_said(exc), _)


def _said(exc: ServiceError) -> Any:
    """What the refusal said: a service's own detail as it answered it, else the gateway's own."""
    return exc.said if isinstance(exc, ServiceRefused) else exc.detail()


def refused_fields(exc: ServiceError) -> list[str]:
    """The fields a refusal names, as the services name them (`phone`, `consents.sms`): console.js
    marks the form's fields of those names invalid and moves the focus to the first. A login
    refused, or a refusal naming no field, marks none; a current password refused, its box."""
    if isinstance(exc, CurrentPasswordWrong):
        return ["password"]
    if isinstance(exc, LoginFailed | TooManyRequests):
        return []
    return field_names(_said(exc))


def refused_query_page(request: Request, template: str, user: ConsoleUser, **context: Any) -> None:
    """What a page read by its address (a search, a report's filters) shows when what it asks is
    refused, by the console or by the service it reads: `template` with `context` (the filters as
    typed, nothing found), the refusal in its form's message area (`message`, `fields`), so the
    person puts the query right where they typed it; not the refusal page, which leaves them
    nothing to put right. Set before the page reads anything; `refusal_handler` shows it."""
    request.state.console_query_page = (template, user, context)


def refusal_handler(json_handler: Any) -> Any:
    """Refusals on console pages become a page (or, for htmx, the fragment put in the form's
    message area); everywhere else the services' JSON answer stays."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not on_console(request) or not isinstance(exc, ServiceError):
            return await json_handler(request, exc)
        message = refusal_message(request, exc)
        # The services' own words, for support: the page shows them in the person's language.
        log.info("console %s %s refused (%s): %s", request.method, request.url.path, exc.status_code, exc)
        again = getattr(request.state, "console_query_page", None)
        if again is not None and request.method == "GET" and exc.status_code < 500 and not request.headers.get("HX-Request"):
            # A refusal, not a service away (a 5xx): the page again, said in its form's message area.
            template, user, context = again
            response = page(request, template, user, status_code=exc.status_code, message=message,
                            fields=refused_fields(exc), **context)
            response.headers.update(exc.headers())
            return response
        template = "fragments/refusal.html" if request.headers.get("HX-Request") else "refusal.html"
        response = page(request, template, status_code=exc.status_code, message=message, fields=refused_fields(exc))
        response.headers.update(exc.headers())
        return response

    return handle


def validation_handler(json_handler: Any) -> Any:
    """A console address the routes cannot read (a replay number that is no number, or beyond 64
    bits) is a refusal page like any other, naming the part; elsewhere the JSON answer stays."""
    refuse = refusal_handler(json_handler)

    async def handle(request: Request, exc: Exception) -> Response:
        if not on_console(request) or not isinstance(exc, RequestValidationError):
            return await json_handler(request, exc)
        error = as_text_length(exc.errors()[0])  # a text's limit in characters, as the API words it
        return await refuse(request, Invalid(str(error["loc"][-1]), str(error["msg"])))

    return handle


def not_found_handler(json_handler: Any) -> Any:
    """A console address no page has (a mistyped link, an old bookmark) is a console page saying so,
    in the person's language, as an address naming no complaint is; not the router's JSON. Shown
    with no session too: it says only that the console has no such page. Everywhere else, and for
    any other status, the JSON answer stays."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not on_console(request) or not isinstance(exc, HTTPException) or exc.status_code != 404:
            return await json_handler(request, exc)
        _ = gettext_of(request)
        return page(request, "refusal.html", status_code=404, message=str(_("The console has no such page.")))

    return handle


async def forbidden_handler(request: Request, exc: Exception) -> Response:
    if not on_console(request):
        return JSONResponse({"detail": str(exc)}, status_code=403)
    _ = gettext_of(request)
    assert isinstance(exc, AccessDenied)
    return page(request, "refusal.html", status_code=403, message=str(_("Your role may not open this page.")))
