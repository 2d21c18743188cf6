"""The access policy of the whole platform: who may do what, to which customers, seeing which fields.

One table, `POLICY`, says for every action which roles may take it and over which customers:
`ALL` of them, their `STORE`'s (the customer's home store is the caller's store), the customers
`ASSIGNED` to them (an account manager's own), or only `SELF` (a member's own data). A role that is
not listed for an action may not take it at all. Actions are named `<service>.<what>.<verb>`; every
route of every service names exactly one (see `shared.authorize`), and a test walks every route
against this table.

Store binding is a second, universal rule: a token bound to a store (desk, store manager, till)
acts only for that store, whatever the customer scope. A caller whose scope is their `STORE` also
gives a customer only that store as home store (`Grant.ensure_home_store`), so as not to move a
customer out of their own reach.

Fields: contact details (phone, address, e-mail) are shown in clear only to the roles whose work
needs them, and to the member themself; everyone else gets them masked.

This module is pure: no I/O, no web framework (SQLAlchemy only builds WHERE conditions). Services learn each customer's home store and
manager from members' events (`MemberFacts`), and `Grant` decides against those facts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, false

from shared.auth import Principal, Role


class Scope(StrEnum):
    ALL = "all"
    STORE = "store"
    ASSIGNED = "assigned"
    SELF = "self"


class AccessDenied(Exception):
    """The caller may not take this action on this customer or store (HTTP 403)."""


class NotCustomer(Exception):
    """The customer does not exist, as far as this service knows (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the policy needs to know about a customer; members owns it, others learn it by events."""

    member_id: str
    home_store_id: str | None
    manager_id: str | None
    erased_at: datetime | None = None


A, S, M, SELF = Scope.ALL, Scope.STORE, Scope.ASSIGNED, Scope.SELF
R = Role

# Who works with customers' data at all, by how far their work reaches.
_CUSTOMER_WORK = {R.SERVICE_DESK: A, R.ACCOUNT_MANAGER: M, R.STORE_MANAGER: S, R.ADMIN: A}
_CUSTOMER_READ = {**_CUSTOMER_WORK, R.MARKETING: A}
_CUSTOMER_SELF = {**_CUSTOMER_WORK, R.MEMBER: SELF}
_STAFF = {R.SERVICE_DESK: A, R.ACCOUNT_MANAGER: A, R.STORE_MANAGER: A, R.MARKETING: A, R.ADMIN: A}
_ADMIN = {R.ADMIN: A}
_MANAGEMENT = {R.STORE_MANAGER: S, R.ADMIN: A}
# Who reads a member's coupons and messages (campaigns).
_WALLET_AND_INBOX = {**_CUSTOMER_READ, R.MEMBER: SELF}
# The desk serves walk-in customers of every store, at its own store (the token's store binding).
_DESK = {R.SERVICE_DESK: A, R.STORE_MANAGER: S, R.ADMIN: A}

POLICY: Mapping[str, Mapping[Role, Scope]] = MappingProxyType({
    # members: profiles, search, archive, consents, privacy
    "members.member.register": {R.SERVICE_DESK: A, R.ACCOUNT_MANAGER: A, R.STORE_MANAGER: S, R.ADMIN: A},
    # A registration dated in the past (`registered_at`: paper forms imported by the back office)
    # moves the customer into earlier months' reports: admins only, never a desk.
    "members.member.register_backdated": _ADMIN,
    "members.member.search": _CUSTOMER_READ,
    # Searching by a phone number reveals whose it is: only roles that see contact details.
    "members.member.search_by_phone": _CUSTOMER_WORK,
    "members.member.read": {**_CUSTOMER_READ, R.MEMBER: SELF},
    "members.member.update": _CUSTOMER_SELF,
    # A lost or damaged card replaced: the customer shows who they are at a desk.
    "members.card.replace": _DESK,
    "members.archive.read": _CUSTOMER_WORK,
    "members.consent.read": {**_CUSTOMER_READ, R.MEMBER: SELF},
    "members.consent.change": _CUSTOMER_SELF,
    "members.privacy.export": {R.ADMIN: A, R.MEMBER: SELF},
    "members.privacy.erase": {R.ADMIN: A, R.MEMBER: SELF},
    "members.access_log.read": _ADMIN,
    # Loading a chain's past sales (`crm import-sales`): writes purchases and spend of any member.
    "members.sale.import": _ADMIN,
    # The platform's own services: the sender reads the phone or e-mail it sends to at the moment
    # of sending (campaigns keeps none), and forwards an opt-out replied to an SMS.
    "members.contact.read": {R.SERVICE: A},
    "members.consent.reply": {R.SERVICE: A},
    # The gateway signing a member in to the app (the phone proved by an SMS code): who owns this
    # phone, and registering a customer who signs up in the app.
    "members.member.identify": {R.SERVICE: A},
    "members.member.self_register": {R.SERVICE: A},
    # members: the customer information base and value analytics (lists limited to the scope)
    "members.infobase.read": _CUSTOMER_READ,
    "members.infobase.purchases": {**_CUSTOMER_READ, R.MEMBER: SELF},
    "members.analytics.read": _CUSTOMER_READ,
    "members.community.read": _STAFF,
    "members.community.edit": _MANAGEMENT,
    # members: staff directory, account managers and tracking
    # The sender too (a `service` token): the name and work phone of the account manager a VIP's
    # welcome introduces, which members' request gives by id alone (no names or phones on the bus).
    "members.staff.read": {R.SERVICE_DESK: S, R.ACCOUNT_MANAGER: S, R.STORE_MANAGER: S, R.ADMIN: A, R.SERVICE: A},
    "members.staff.manage": _MANAGEMENT,
    "members.manager.assign": _MANAGEMENT,
    "members.tracking.read": {R.ACCOUNT_MANAGER: M, R.STORE_MANAGER: S, R.ADMIN: A},
    "members.tracking.record": {R.ACCOUNT_MANAGER: M},
    "members.tracking.unassigned": _MANAGEMENT,
    "members.evaluation.read": _MANAGEMENT,
    # points: accounts, rules, gifts, entitlements, manual changes
    "points.account.read": _CUSTOMER_SELF,
    "points.rule.read": _STAFF,
    "points.rule.write": _ADMIN,
    "points.preview": {**_STAFF, R.POS: S},
    "points.gift.read": {**_STAFF, R.MEMBER: A},
    "points.gift.write": _ADMIN,
    "points.stock.read": _STAFF,
    "points.stock.write": _MANAGEMENT,
    "points.redemption.read": _CUSTOMER_SELF,
    "points.redemption.handle": _DESK,
    # A member reserving a gift for pick-up at their home store in the app, and cancelling it
    # while it is still reserved; handing it over stays at the desk.
    "points.redemption.reserve": {R.MEMBER: SELF},
    "points.redemption.cancel_own": {R.MEMBER: SELF},
    "points.gift_register.read": _DESK,
    "points.entitlement.use": _DESK,
    # Store managers within a per-entry and per-day cap (points settings); beyond it, admins.
    "points.manual.book": _MANAGEMENT,
    "points.bulk_bonus.run": _ADMIN,
    # The points liability (what members hold, by the month it expires) that finance books: the
    # chain's figure for those who read the chain's figures (marketing, admins), a store manager
    # their store's share (what its sales earned), as with survey results.
    "points.liability.read": {R.STORE_MANAGER: S, R.MARKETING: A, R.ADMIN: A},
    # feedback: complaints, surveys, comment book
    "feedback.complaint.file": {**_CUSTOMER_WORK, R.MEMBER: SELF},
    "feedback.complaint.read": {**_CUSTOMER_WORK, R.MEMBER: SELF},
    "feedback.complaint.handle": {R.SERVICE_DESK: S, R.ACCOUNT_MANAGER: M, R.STORE_MANAGER: S, R.ADMIN: A},
    "feedback.complaint.comment": {R.SERVICE_DESK: S, R.ACCOUNT_MANAGER: M, R.STORE_MANAGER: S, R.ADMIN: A, R.MEMBER: SELF},
    "feedback.survey.design": {R.MARKETING: A, R.ADMIN: A},
    "feedback.survey.read": _STAFF,
    # The surveys sent to one customer and what became of them: whoever reads the customer, within
    # the same reach (a store's staff, another store's customer: no more than their profile).
    "feedback.survey.sent": _CUSTOMER_READ,
    # A survey link is the member's own: nobody else sees it (staff see that one was sent).
    "feedback.survey.invitations": {R.MEMBER: SELF},
    "feedback.survey.answer": {R.MEMBER: SELF},
    "feedback.survey.results": {R.STORE_MANAGER: S, R.MARKETING: A, R.ADMIN: A},
    "feedback.comment_book.use": _DESK,
    # A member's data export: what feedback holds about them, for whoever may export the member
    # in members (`members.privacy.export`).
    "feedback.privacy.export": {R.ADMIN: A, R.MEMBER: SELF},
    # campaigns: segments (the audience)
    "campaigns.segment.read": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.segment.write": {R.MARKETING: A, R.ADMIN: A},
    # campaigns: coupon templates, issuing, members' wallets, the till's validate / reserve / release
    "campaigns.coupon_template.write": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.coupon_template.read": _STAFF,
    "campaigns.coupon.issue": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.coupon.read": _WALLET_AND_INBOX,
    "campaigns.coupon.validate": {R.POS: S},
    "campaigns.coupon.reserve": {R.POS: S},
    "campaigns.coupon.release": {R.POS: S},
    # campaigns: the campaigns themselves and their results
    "campaigns.campaign.read": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.campaign.write": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.campaign.launch": {R.MARKETING: A, R.ADMIN: A},
    # campaigns: messages. Staff who work with a customer see their messages and what became of
    # them; the member reads their own inbox; operators see what the local transport sent.
    "campaigns.message.read": _WALLET_AND_INBOX,
    # A member's coupons and latest messages at once (the customer-360 view): the reach of both.
    "campaigns.overview.read": _WALLET_AND_INBOX,
    "campaigns.message.mark_read": {R.MEMBER: SELF},
    "campaigns.outbox.read": {R.OPERATOR: A, R.ADMIN: A},
    # campaigns: the promotion list and the personal offer lists built from it. A member reads
    # their own list; staff who work with the customer see it as the member does.
    "campaigns.promotion.read": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.promotion.write": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.offer_list.build": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.offer_list.read": {R.MARKETING: A, R.ADMIN: A},
    "campaigns.offer.read": {**_CUSTOMER_READ, R.MEMBER: SELF},
    # The gateway's sign-in codes: a service message to a phone number, not to a member.
    "campaigns.message.one_time": {R.SERVICE: A},
    # gateway
    "gateway.customer360.read": {**_CUSTOMER_WORK, R.MEMBER: SELF},
    # A customer's request for a copy of their data made at a desk or in writing, answered by whoever
    # handles privacy requests: the document the member gets in the app (`/app/v1/me/export`), for
    # whoever may export the member in every service (`members.privacy.export`, ...).
    "gateway.privacy.export": _ADMIN,
    # The same requests' erasure: members' (`members.privacy.erase`), with the customer's sign-ins
    # ended at the gateway at once.
    "gateway.privacy.erase": _ADMIN,
    # Changes through the services' pass-through (/api/<service>/..., each service deciding as
    # ever): staff and operators. A member reads their own there, but changes things through the
    # app API (/app/v1) alone, where the gateway checks what no one service can (that a complaint's
    # sale is one of theirs, that its store exists); tills have their own routes (/pos/v1).
    "gateway.services.change": {**_STAFF, R.OPERATOR: A},
    # The member app API (/app/v1): the member's own data only, the member id taken from the token.
    "gateway.app.use": {R.MEMBER: SELF},
    "gateway.pos.post": {R.POS: S},
    "gateway.pos.preview": {R.POS: S},
    # The till's coupon calls (validate, reserve, release), forwarded to campaigns with its token.
    "gateway.pos.coupons": {R.POS: S},
    "gateway.store.read": {**_STAFF, R.POS: S},
    "gateway.store.write": _ADMIN,
    # Who added, renamed, closed and reopened each store: read by those who change stores, as the
    # audit trails of staff accounts and tills are.
    "gateway.store.audit": _ADMIN,
    # Client credentials of tills and services: enrolling, rotating, revoking and their audit
    # trail. The exchange itself (POST /identity/v1/token) is public: the credential is the proof.
    "gateway.identity_client.read": _ADMIN,
    "gateway.identity_client.write": _ADMIN,
    # Staff accounts: creating, changing, deactivating, passwords, second factor, audit trail.
    # Logging in (POST /identity/v1/login, /refresh, /logout) is public: the password is the proof.
    "gateway.staff.read": _ADMIN,
    "gateway.staff.write": _ADMIN,
    # Members' sign-in and sign-up by SMS code (POST /identity/v1/members/...) are public too: the
    # code is the proof.
    # The console (served by the gateway): any staff member's own pages (the start page, the
    # language switch, logging out); operators watch the platform's health and event flow, and
    # browse, replay and discard dead letters (each replay and discard audited).
    "gateway.console.use": {**_STAFF, R.OPERATOR: A},
    "gateway.console.operate": {R.OPERATOR: A, R.ADMIN: A},
    "gateway.dead_letter.read": {R.OPERATOR: A, R.ADMIN: A},
    "gateway.dead_letter.handle": {R.OPERATOR: A, R.ADMIN: A},
    # every service: the scheduled jobs, their latest runs, and running one now
    "jobs.read": {R.OPERATOR: A, R.ADMIN: A},
    "jobs.run": {R.OPERATOR: A, R.ADMIN: A},
})

# Roles that see a customer's contact details in clear (calling, delivering, visiting).
SEES_CONTACT_DETAILS = frozenset({R.SERVICE_DESK, R.ACCOUNT_MANAGER, R.STORE_MANAGER, R.ADMIN})


def scope_of(principal: Principal, action: str) -> Scope:
    """The caller's scope for the action; AccessDenied if their role may not take it at all."""
    scope = POLICY[action].get(principal.role)
    if scope is None:
        raise AccessDenied(f"role {principal.role} may not {action}")
    return scope


@dataclass(frozen=True, slots=True)
class Grant:
    """The caller's right to one action: consulted for every customer or store it touches."""

    principal: Principal
    action: str
    scope: Scope

    @classmethod
    def of(cls, principal: Principal, action: str) -> "Grant":
        return cls(principal, action, scope_of(principal, action))

    def covers(self, member: MemberFacts) -> bool:
        p = self.principal
        match self.scope:
            case Scope.ALL:
                return True
            case Scope.STORE:
                return p.store_id is not None and member.home_store_id == p.store_id
            case Scope.ASSIGNED:
                return member.manager_id is not None and member.manager_id == p.subject
            case Scope.SELF:
                return p.member_id is not None and member.member_id == p.member_id

    def covers_id(self, member_id: str) -> bool:
        """For callers who may act on a customer without facts about them (ALL, or SELF by id)."""
        return self.scope is Scope.ALL or (self.scope is Scope.SELF and member_id == self.principal.member_id)

    def ensure_member(self, member: MemberFacts | None, member_id: str) -> None:
        """AccessDenied unless the caller may act on this customer; NotCustomer for one this service
        does not know, when the caller's scope would need facts to decide."""
        if member is None:
            if self.covers_id(member_id):
                return
            if self.scope is Scope.SELF:
                raise AccessDenied(self._refusal())
            raise NotCustomer(f"no member {member_id}")
        if not self.covers(member):
            raise AccessDenied(self._refusal())

    def ensure_store(self, store_id: str | None) -> None:
        """A store-bound token acts only for its store; a STORE scope needs that binding."""
        bound = self.principal.store_id
        if bound is not None and store_id != bound:
            raise AccessDenied(f"this token is bound to store {bound}, not {store_id}")
        if bound is None and self.scope is Scope.STORE:
            raise AccessDenied(f"a {self.principal.role} token must name its store")

    def acts_for_store(self, store_id: str | None) -> bool:
        """`ensure_store` as a question, for what a route leaves out rather than refuses (another
        store's figures beside a customer the caller may see)."""
        try:
            self.ensure_store(store_id)
        except AccessDenied:
            return False
        return True

    def ensure_home_store(self, home_store_id: str | None) -> None:
        """The home store a caller gives a customer, registering or editing them. A caller whose
        reach is their store's customers (`STORE`) may give only their own store: another one, or
        none, would hand the customer to a store they do not manage (or to nobody's) and out of their
        own reach, where they could not even undo it. Other scopes are not bounded by the home store;
        a desk serves walk-in customers of every store and may name any."""
        if self.scope is not Scope.STORE:
            return
        bound = self.principal.store_id
        if bound is None:
            raise AccessDenied(f"a {self.principal.role} token must name its store")
        if home_store_id != bound:
            raise AccessDenied(
                f"home_store_id: this token is bound to store {bound}, not {home_store_id or 'none'}; "
                f"a {self.principal.role} may only make their own store a customer's home store ({self.action})"
            )

    def store_filter(self, requested: str | None) -> str | None:
        """The store a report or list covers: a caller whose scope is their store gets their own
        store (asking for another is refused); others get what they asked for (None: every store
        their scope reaches). The store binding holds whatever the scope: a store-bound token (a
        desk's, whose customers are every store's walk-ins) asks for no other store's figures."""
        bound = self.principal.store_id
        if self.scope is Scope.STORE:
            if bound is None:
                raise AccessDenied(f"a {self.principal.role} token must name its store")
            if requested not in (None, bound):
                raise AccessDenied(f"store_id: {self.principal.role} may only see their own store {bound} ({self.action})")
            return bound
        if bound is not None and requested not in (None, bound):
            raise AccessDenied(f"store_id: this token is bound to store {bound}, not {requested} ({self.action})")
        return requested

    def store_rows(self, store_id: Any) -> list[ColumnElement[bool]]:
        """SQL conditions limiting rows that belong to a store (its gift stock, its register, what
        was lodged there), given the column holding their store, to the stores the caller acts for:
        a store-bound token's own (`ensure_store` for one row, this for a list), every store for
        an unbound one, none for a STORE scope without a store."""
        bound = self.principal.store_id
        if bound is not None:
            return [store_id == bound]
        return [false()] if self.scope is Scope.STORE else []

    def sees_contact_details(self, member_id: str) -> bool:
        p = self.principal
        return p.role in SEES_CONTACT_DETAILS or (p.role == Role.MEMBER and p.member_id == member_id)

    def _refusal(self) -> str:
        match self.scope:
            case Scope.ASSIGNED:
                return f"account managers may only act on the customers assigned to them ({self.action})"
            case Scope.STORE:
                return f"store managers and desks may only act on the customers of their own store ({self.action})"
            case Scope.SELF:
                return f"members may only act on their own data ({self.action})"
            case _:
                return f"role {self.principal.role} may not {self.action}"

    def where(self, member_id: Any, home_store_id: Any, manager_id: Any) -> list[ColumnElement[bool]]:
        """SQL conditions limiting a customer query to the caller's scope, given the columns that
        hold the customer's id, home store and account manager."""
        p = self.principal
        match self.scope:
            case Scope.ALL:
                return []
            case Scope.STORE:
                return [home_store_id == p.store_id] if p.store_id else [false()]
            case Scope.ASSIGNED:
                return [manager_id == p.subject]
            case Scope.SELF:
                return [member_id == p.member_id] if p.member_id else [false()]
