"""The member app's views, composed from the services' answers to the member's own token.

The member id always comes from the token (`member_id` here is the caller's own, never a value the
app sent), so another member's data cannot be named. Lists are paged with `limit` and an opaque
`cursor` (next_cursor of the previous page) naming the last item shown (`domain.app_cursors`): the
services page their lists after it (a purchase, ledger entry, message or reservation by its keys);
a list a service answers whole (coupons) or only by `limit` (complaints, up to 500) is paged here
from one read.
"""

import asyncio
import logging
from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.adapters.clients import segment
from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.tables import StoreRow
from gateway.domain import ledger_wording as wording
from gateway.domain.app_cursors import GONE, after, cursor_of, entry_position, next_page, position
from gateway.domain.app_messages import field_label, preferred_language
from gateway.service_layer import member_sign_in
from gateway.service_layer.app_calls import MemberCalls, Relayed
from shared.commands import Commands
from shared.errors import Invalid, ServiceError

log = logging.getLogger(__name__)

COMPLAINTS_READ_MAX = 500  # the most feedback lists in one read

# What the app shows of the services' records: the customer's own data and what became of it, never
# who on the staff handled it. Staff ids (an account manager's directory id, a desk's or the app's
# account, a queue such as `desk:S001`) name people and are internal; so are a complaint's
# assignment, escalations and deadlines overdue. Each shape is a list of what is kept: a field a
# service adds later stays out of the app until it is added here.
PROFILE_FIELDS = ("id", "card_no", "name", "phone", "email", "gender", "community", "address", "channel", "birthday",
                  "home_store_id", "tier", "consents", "lifetime_spend", "purchase_count", "first_purchase_at",
                  "last_purchase_at", "created_at")
COMPLAINT_FIELDS = ("id", "store_id", "channel", "category", "severity", "status", "description", "sale_store_id",
                    "sale_pos_txn_id", "filed_at", "ack_due_at", "acknowledged_at", "resolve_due_at", "resolved_at",
                    "closed_at", "reopen_count", "resolution_note", "compensation_points", "coupon_value",
                    "compensated_at", "rating", "rating_comment", "rated_at", "survey_link")
# The steps of a complaint the customer follows (feedback's history also records its routing:
# `assigned`, `taken`, `escalated`), each said as done by the customer or by the store's staff.
COMPLAINT_STEPS = ("filed", "acknowledge", "start", "resolve", "close", "reopen", "rated")
HISTORY_FIELDS = ("action", "from_status", "to_status", "note", "at")
# A reservation's gift by its names too (`gift_name_zh`, `gift_name_en`, from the member's catalogue:
# null for a gift no longer on offer, or while the catalogue cannot be read), so the app need not
# join the catalogue to show what was reserved.
RESERVATION_FIELDS = ("redemption_id", "gift_id", "gift_name_zh", "gift_name_en", "kind", "coupon_template_id", "store_id",
                      "channel", "points", "points_kept", "status", "redeemed_at", "handed_over_at", "cancelled_at",
                      "cancel_reason")
ENTITLEMENT_FIELDS = ("kind", "granted", "used", "remaining")
VISIT_FIELDS = ("id", "kind", "used_on", "store_id", "booked_at")


def _kept(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: record[k] for k in fields if k in record}


def profile(member: dict[str, Any]) -> dict[str, Any]:
    """The member's profile as the app shows it: without the account manager's staff id."""
    return _kept(member, PROFILE_FIELDS)


def complaint(record: dict[str, Any], member_id: str) -> dict[str, Any]:
    """A complaint (feedback's in full, or as its lists give it) as the app shows it: its steps
    (`by` "you" or "staff"), never who on the staff has it, took it or was escalated to."""
    shown = _kept(record, COMPLAINT_FIELDS)
    if "history" in record:
        shown["history"] = [_step(h, member_id) for h in record["history"] if h.get("action") in COMPLAINT_STEPS]
    return shown


def _step(entry: dict[str, Any], member_id: str) -> dict[str, Any]:
    step = {**_kept(entry, HISTORY_FIELDS), "by": "you" if entry.get("actor") == member_id else "staff"}
    if entry.get("action") == "reopen":  # the reason given for reopening it, the only detail meant for the customer
        step["reason"] = entry.get("detail")
    return step


def reservation(record: dict[str, Any], gift_names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A gift reservation as the app shows it, its gift named (`gift_names`, by `_gift_names`):
    without who reserved, handed over or cancelled it."""
    zh, en = gift_names.get(record.get("gift_id", ""), (None, None))
    return _kept({**record, "gift_name_zh": zh, "gift_name_en": en}, RESERVATION_FIELDS)


async def reservation_named(calls: MemberCalls, member_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """A reservation points answered (made or cancelled) as the app shows it, its gift named."""
    return reservation(record, await _gift_names(calls, member_id))


def survey(form: dict[str, Any], accept_language: str | None) -> dict[str, Any]:
    """A survey's form as feedback answers it, with its `questions` in the order asked, each the
    field of the answer it is (`ratings.<dimension>`, `nps`, `comment`, as a refusal names it) and
    its `label` in the language the member prefers, with `label_zh` and `label_en`: the words the
    app's refusals name that field by (`domain.app_messages.FIELDS`), so every app asks them alike."""
    english = preferred_language(accept_language) == "en"
    template = form.get("template") or {}
    fields = [f"ratings.{d}" for d in template.get("dimensions", [])]
    fields += [field for field, asked in (("nps", template.get("ask_nps")), ("comment", template.get("ask_comment"))) if asked]
    questions = []
    for field in fields:
        zh, en = field_label(field)
        questions.append({"field": field, "label": en if english else zh, "label_zh": zh, "label_en": en})
    return {**form, "questions": questions}


def entitlements(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The member's entitlements with their visits, without the staff who booked each."""
    return [{**_kept(e, ENTITLEMENT_FIELDS), "uses": [_kept(u, VISIT_FIELDS) for u in e.get("uses", [])]} for e in records]


def barcode_payload(card_no: str) -> str:
    """What the app's barcode and QR code encode: the card number itself, which every till already
    takes (a sale's `card_no`, the points preview), so nothing new has to be taught to the tills."""
    return card_no


async def points_account(calls: MemberCalls, path: str, params: dict[str, Any] | None = None) -> Any | None:
    """points' answer about the member's own account, or None while there is no account yet.

    Points opens a member's account when it consumes `member_registered`, a moment after sign-up,
    and until then answers 404 for it. A new member has nothing in points yet: each view shows what
    a new account holds (balance 0, an empty ledger, the catalogue at their channel's prices)
    instead of relaying that 404 as "not found". Any other refusal comes through as itself."""
    return await unless_unknown(calls.get("points", path, params), None)


async def unless_unknown(read: Awaitable[Any], nothing: Any) -> Any:
    """A service's answer about the member, or `nothing` while it does not know them yet: each
    service learns a new member from `member_registered`, a moment after sign-up, and answers 404
    until then. Any other refusal comes through as itself."""
    try:
        return await read
    except Relayed as refusal:
        if refusal.status_code != 404:
            raise
        return nothing


async def card(calls: MemberCalls, member_id: str) -> dict[str, Any]:
    # gather, not a TaskGroup: a refusal must reach the app as itself, not inside an ExceptionGroup.
    member, balance = await asyncio.gather(
        calls.get("members", f"/v1/members/{segment(member_id)}"),
        points_account(calls, f"/v1/members/{segment(member_id)}/expiring"),
    )
    if balance is None:
        balance = {"balance": 0, "expiring": [], "past_date": 0}
    expiring = balance["expiring"]
    return {
        "member_id": member_id,
        "card_no": member["card_no"],
        "barcode": {"format": "CODE128", "payload": barcode_payload(member["card_no"])},
        "qr": {"payload": barcode_payload(member["card_no"])},
        "tier": member["tier"],
        "points": {
            "balance": balance["balance"],
            "next_expiry": expiring[0] if expiring else None,  # points lists the days to come only
            "expiring": expiring,
            "past_date": balance.get("past_date", 0),  # not from points before it counted them apart
        },
    }


async def ledger(calls: MemberCalls, commands: Commands, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the ledger, each entry with its `description` for the member (`domain.ledger_wording`)
    in the language they prefer and in both, the stores and gifts it names by their names."""
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["before_id"] = entry_position(cursor)
    body = await after_cursor(points_account(calls, f"/v1/accounts/{segment(member_id)}/ledger", params), cursor)
    if body is None:
        return {"items": [], "next_cursor": None}
    entries = body["entries"]
    store_ids, gift_ids = wording.named(entries)
    names = wording.Names(await _store_names(commands, store_ids), await _gift_names(calls, member_id) if gift_ids else {})
    english = preferred_language(calls.accept_language) == "en"
    items = []
    for e in entries:
        zh, en = wording.describe(e, names)
        items.append({**{k: e[k] for k in LEDGER_FIELDS}, "description": en if english else zh, "description_zh": zh, "description_en": en})
    nxt = body.get("next_before_id")
    return {"items": items, "next_cursor": cursor_of(str(nxt)) if nxt is not None else None}


LEDGER_FIELDS = ("id", "entry_type", "points", "balance_after", "reason", "occurred_at")


async def _store_names(commands: Commands, store_ids: set[str]) -> dict[str, str]:
    # A page naming no store (gifts cancelled, bonuses, expiries) reads no table.
    if not store_ids:
        return {}
    async with commands(read_only=True) as uow:
        return await store_names(uow.session, store_ids)


async def _gift_names(calls: MemberCalls, member_id: str) -> dict[str, tuple[str, str]]:
    """The gifts' names (Chinese, English) from the member's catalogue, the one the app's gift list
    reads. A gift no longer on offer has none, and neither has any gift when the catalogue cannot be
    read: the ledger (naming it by its id) and the reservations (names null) are answered either way."""
    try:
        catalogue = await points_account(calls, f"/v1/members/{segment(member_id)}/gifts")
    except ServiceError as refusal:
        log.warning("gift names unavailable (%s); gifts named by id", refusal)
        return {}
    return {g["gift_id"]: (g["name_zh"], g["name_en"]) for g in (catalogue or {}).get("gifts", [])}


async def gifts(calls: MemberCalls, member_id: str) -> dict[str, Any]:
    """points' catalogue for the member: their channel's prices, their home store's stock. Before
    points has the account, it prices the catalogue by the channel and home store members has for
    them (points' `Newcomer`), so the rule of what is on offer stays in points."""
    path = f"/v1/members/{segment(member_id)}/gifts"
    body = await points_account(calls, path)
    if body is not None:
        return body
    member = await calls.get("members", f"/v1/members/{segment(member_id)}")
    newcomer = {"channel": member["channel"]}
    if member.get("home_store_id"):
        newcomer["home_store_id"] = member["home_store_id"]
    return await calls.get("points", path, newcomer)


async def store_names(session: AsyncSession, store_ids: set[str]) -> dict[str, str]:
    if not store_ids:
        return {}
    rows = (await session.exec(select(StoreRow).where(col(StoreRow.store_id).in_(store_ids)))).all()
    return {r.store_id: r.name for r in rows}


def receipt(purchase: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A purchase as the app shows it, its returns beneath it: the paid amount worked out once,
    here, and each store's name."""
    total, discount = Decimal(str(purchase["total"])), Decimal(str(purchase["discount"]))
    returns = [{**r, "store_name": names.get(r["store_id"])} for r in purchase.get("returns", [])]
    return {
        **purchase,
        "store_name": names.get(purchase["store_id"]),
        "paid": str(total - discount),
        "returns": returns,
    }


async def after_cursor(read: Awaitable[Any], cursor: str | None) -> Any:
    """A service's page after the item a cursor names. The service refuses an item that is not the
    member's (422 naming its own parameter, which the app never sent): the app's `cursor` refused."""
    try:
        return await read
    except Relayed as refusal:
        if cursor is None or refusal.status_code != 422:
            raise
        raise Invalid("cursor", GONE) from refusal


async def purchases(calls: MemberCalls, session: AsyncSession, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit + 1}
    if cursor is not None:
        params["before_store_id"], params["before_pos_txn_id"] = position(cursor, 2)
    body = await after_cursor(calls.get("members", f"/v1/members/{segment(member_id)}/purchases", params), cursor)
    names = await store_names(session, {p["store_id"] for p in body} | {r["store_id"] for p in body for r in p.get("returns", [])})
    return next_page([receipt(p, names) for p in body], limit, lambda p: (p["store_id"], p["pos_txn_id"]))


async def coupons(calls: MemberCalls, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    wanted = position(cursor, 1)[0] if cursor is not None else None
    body = await calls.get("campaigns", f"/v1/members/{segment(member_id)}/coupons")
    return next_page(after(body, wanted, "coupon_id")[:limit + 1], limit, lambda c: (c["coupon_id"],))


async def messages(calls: MemberCalls, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    return await _paged_by_id(calls, "campaigns", f"/v1/members/{segment(member_id)}/messages", limit, cursor, "id")


async def reservations(calls: MemberCalls, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    page = await _paged_by_id(calls, "points", f"/v1/members/{segment(member_id)}/redemptions", limit, cursor, "redemption_id")
    names = await _gift_names(calls, member_id) if page["items"] else {}  # one read for the page; none for an empty one
    return {**page, "items": [reservation(r, names) for r in page["items"]]}


async def _paged_by_id(calls: MemberCalls, service: str, path: str, limit: int, cursor: str | None, key: str) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit + 1}
    if cursor is not None:
        [params["before_id"]] = position(cursor, 1)
    body = await after_cursor(calls.get(service, path, params), cursor)
    return next_page(body, limit, lambda item: (item[key],))


async def complaints(calls: MemberCalls, member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    # Feedback lists a member's complaints only by `limit`: all of them are read, up to 500 (a
    # member files a handful), and paged here.
    wanted = position(cursor, 1)[0] if cursor is not None else None
    body = await calls.get("feedback", "/v1/complaints", {"member_id": member_id, "limit": COMPLAINTS_READ_MAX})
    # Feedback lists them for staff, the most urgent first: an order that changes as staff act on
    # one, which would move the cursor's complaint between pages. The member's list is theirs as
    # they filed them, newest first, an order nothing changes.
    mine = sorted(body, key=lambda c: c["id"])
    mine.sort(key=lambda c: datetime.fromisoformat(c["filed_at"]), reverse=True)
    page = next_page(after(mine, wanted, "id")[:limit + 1], limit, lambda c: (c["id"],))
    return {**page, "items": [complaint(c, member_id) for c in page["items"]]}


async def ensure_own_sale(calls: MemberCalls, member_id: str, store_id: str | None, pos_txn_id: str) -> None:
    """Refuses a complaint's sale that is not one of the member's purchases (422 naming it, located
    in the body by the app's one 422 shape, `domain.app_messages`): staff would otherwise see another
    customer's receipt linked to it."""
    if store_id is None:
        raise Invalid("sale.store_id", "name the store of the sale, here or as the complaint's store_id")
    found = await calls.get("members", f"/v1/members/{segment(member_id)}/purchases",
                            {"store_id": store_id, "pos_txn_id": pos_txn_id, "limit": 1})
    if not found:
        raise Invalid("sale.pos_txn_id", f"none of your purchases at {store_id} is {pos_txn_id} "
                               "(a purchase of the last few minutes may not be listed yet)")


# Every list of the export is read in pages of this size, each the most its service lists at once
# or below it (redemptions: 200).
EXPORT_PAGE = 200


async def export(calls: MemberCalls, member_id: str) -> dict[str, Any]:
    """A copy of everything the platform keeps about the member (数据导出), as one document:
    members' own export (profile, consents, purchases and returns, tracking contacts, complaints
    as members records them, who read their data) and beside it what points, campaigns and
    feedback keep: the points balance with the whole ledger and every gift reservation, the
    service entitlements; every coupon, every message on every channel (not only the app's inbox)
    with its status, and the current personal offer list; and from feedback the complaints in full
    (description, resolution note, rating comment, history with reopen reasons), the survey
    invitations with the answers, and the comment book entries about the member. Each list is read
    to its end. Members is asked first: it logs the export and refuses it for a member it does not
    have or the caller may not export, and then nothing else is read (the member's own token is
    refused once they are erased). The gateway's own sign-in rows (digests of codes
    and refresh tokens) are credentials, not data about the member."""
    document = await calls.get("members", f"/v1/members/{segment(member_id)}/export")
    account, entitlements, coupons, messages, offers, feedback = await asyncio.gather(
        points_account(calls, f"/v1/accounts/{segment(member_id)}", {"entries": 0}),
        unless_unknown(calls.get("points", f"/v1/entitlements/{segment(member_id)}"), []),
        unless_unknown(calls.get("campaigns", f"/v1/members/{segment(member_id)}/coupons"), []),
        # `all`: every message to them (texts, e-mails, queued, refused), not only the app's inbox.
        unless_unknown(_every_page(calls, "campaigns", f"/v1/members/{segment(member_id)}/messages", {"all": "true"}), []),
        unless_unknown(calls.get("campaigns", f"/v1/members/{segment(member_id)}/offers"), None),
        unless_unknown(calls.get("feedback", f"/v1/members/{segment(member_id)}/export"), {}),
    )
    points: dict[str, Any] = {"balance": 0, "ledger": [], "reservations": []}
    if account is not None:  # no account yet: nothing earned, nothing reserved
        points = {"balance": account["balance"], "ledger": await _whole_ledger(calls, member_id),
                  "reservations": await _every_page(calls, "points", f"/v1/members/{segment(member_id)}/redemptions")}
    return {
        **document, "points": points, "entitlements": entitlements, "coupons": coupons, "messages": messages,
        "offers": offers,
        "feedback": {key: feedback.get(key, []) for key in ("complaints", "surveys", "comment_book")},
    }


async def erase(calls: MemberCalls, commands: Commands, revoked: RevokedMembers, member_id: str) -> dict[str, Any]:
    """Erases the member in members (which decides whether the caller may: the member themself, or
    head office answering their request), then ends the member's sign-ins here at once, not when
    `member_erased` reaches this gateway over the broker (seconds, longer while the consumer catches
    up): meanwhile their refresh token would still mint new tokens. The event does the same again
    later, which changes nothing."""
    body: dict[str, Any] = (await calls.send("POST", "members", f"/v1/members/{segment(member_id)}/erasure")).body
    async with commands() as uow:
        await member_sign_in.on_member_erased(uow, member_id, datetime.fromisoformat(body["erased_at"]), revoked)
    return body


async def _every_page(calls: MemberCalls, service: str, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """A list a service pages by offset, read to its end."""
    items: list[Any] = []
    while True:
        batch = await calls.get(service, path, {**(params or {}), "limit": EXPORT_PAGE, "offset": len(items)})
        items += batch
        if len(batch) < EXPORT_PAGE:
            return items


async def _whole_ledger(calls: MemberCalls, member_id: str) -> list[Any]:
    """Every ledger entry, newest first, as points keeps it (the app's ledger view shows fewer fields)."""
    entries: list[Any] = []
    params: dict[str, Any] = {"limit": EXPORT_PAGE}
    while True:
        body = await calls.get("points", f"/v1/accounts/{segment(member_id)}/ledger", params)
        entries += body["entries"]
        if body.get("next_before_id") is None:
            return entries
        params["before_id"] = body["next_before_id"]


async def set_consents(calls: MemberCalls, member_id: str, purposes: dict[str, bool]) -> dict[str, Any]:
    """One answer per purpose, each recorded as given in the app; then the consents in force."""
    for purpose, granted in purposes.items():
        await calls.send("PUT", "members", f"/v1/members/{segment(member_id)}/consents/{segment(purpose)}",
                         json={"granted": granted, "channel": "app"})
    return await calls.get("members", f"/v1/members/{segment(member_id)}/consents")
