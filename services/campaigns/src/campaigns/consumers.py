"""Event type -> handler map of the campaigns service, with the member directory's handlers merged
in (home store, account manager and erasure of each customer, for the access policy)."""

from collections.abc import Callable

from campaigns.adapters.members_api import StaffDirectory
from campaigns.adapters.transports import Providers
from campaigns.config import Settings
from campaigns.service_layer import campaigns, item_history, messages, points_coupons, segments
from campaigns.service_layer.coupons import cards, issuing, redemption
from shared import store_directory
from shared.clock import Clock
from shared.consumer import BatchHandler, Delivery, Handler, in_turn
from shared.events.registry import (
    BIRTHDAY_UPCOMING,
    CAMPAIGN_NOTIFICATION_REQUESTED,
    CAMPAIGN_NOTIFICATION_REQUESTED_V1,
    COMPLAINT_RESOLVED,
    CONSENT_CHANGED,
    CONSENT_CHANGED_V2,
    FEEDBACK_NOTIFICATION_REQUESTED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    NOTIFICATION_REQUESTED,
    PERSONALISATION_CHANGED,
    POINTS_EXPIRING,
    PURCHASE_ATTRIBUTED,
    PURCHASE_MADE,
    PURCHASE_REFUNDED,
    RETURN_ATTRIBUTED,
    REWARD_REDEEMED,
    STORE_CHANGED,
    TIER_CHANGED,
)
from shared.member_directory import with_directory, with_directory_batches
from shared.unit_of_work import UnitOfWork

# The providers made at start-up, read when an event is handled (the handlers are made before
# the app starts); None: none (the handlers alone, as the manifests' test makes them).
ProvidersSource = Callable[[], Providers | None]


def handlers(settings: Settings, clock: Clock, providers: ProvidersSource = lambda: None) -> dict[str, Handler]:
    """`providers` gives members' staff directory, which names the account manager of a VIP's
    welcome (without it, no service credential: such a welcome fails, saying so)."""
    return with_directory({
        # the audience's read model of customers (service_layer/segments.py), and members' cards
        # for generic codes (service_layer/coupons/cards.py)
        MEMBER_REGISTERED: in_turn(segments.on_member_registered, cards.on_member_registered),
        # the read model takes the attributes in within win-back's handler, between its look at the
        # churn risk they replace and its segments, which select on the new attributes
        MEMBER_ATTRIBUTES: campaigns.on_member_attributes,
        MEMBER_PROFILE_CHANGED: in_turn(segments.on_member_profile_changed, cards.on_member_profile_changed),
        TIER_CHANGED: segments.on_tier_changed,
        CONSENT_CHANGED: segments.on_consent_changed,
        # v2: the same change, from a channel v1 cannot name (a reply to an SMS)
        CONSENT_CHANGED_V2: segments.on_consent_changed,
        PERSONALISATION_CHANGED: segments.on_personalisation_changed,
        MEMBER_ERASED: in_turn(segments.on_member_erased, cards.on_member_erased, issuing.on_member_erased,
                               messages.on_member_erased, item_history.on_member_erased),
        PURCHASE_ATTRIBUTED: segments.on_purchase_attributed,
        RETURN_ATTRIBUTED: segments.on_return_attributed,
        # coupons: redemption and reversal from the tills' sales
        PURCHASE_MADE: redemption.on_purchase_made,
        PURCHASE_REFUNDED: redemption.on_purchase_refunded,
        # coupons bought with points (service_layer/points_coupons.py)
        REWARD_REDEEMED: points_coupons.on_reward_redeemed,
        # triggered campaigns (service_layer/campaigns.py)
        POINTS_EXPIRING: campaigns.on_points_expiring,
        COMPLAINT_RESOLVED: campaigns.on_complaint_resolved,
        BIRTHDAY_UPCOMING: campaigns.on_birthday_upcoming,
        # the sender (service_layer/messages.py): members' requests after the welcome campaigns
        # added theirs (campaigns' own requests from its topic: `batch_handlers`)
        NOTIFICATION_REQUESTED: in_turn(campaigns.on_notification_requested, _member_requests(providers)),
        # feedback's survey invitations: survey-invitation campaigns, then the sender sends the invitation
        FEEDBACK_NOTIFICATION_REQUESTED: in_turn(campaigns.on_survey_invitation_requested,
                                                 messages.on_feedback_notification_requested),
        # the names messages give stores, from the gateway, where stores are kept
        STORE_CHANGED: store_directory.on_store_changed,
    })


def batch_handlers(settings: Settings, clock: Clock, providers: ProvidersSource = lambda: None) -> dict[str, BatchHandler]:
    # A desk's registrations arrive each with the consents given at it: the read model takes a run
    # of them together (one handler for the four types, so one run), the cards a run at a time.
    facts = _customer_facts()
    return with_directory_batches({
        MEMBER_REGISTERED: facts,
        CONSENT_CHANGED: facts,
        CONSENT_CHANGED_V2: facts,
        PERSONALISATION_CHANGED: facts,
        # A launch asks for a message per treated member: the sender takes them in a batch at a time.
        CAMPAIGN_NOTIFICATION_REQUESTED: _campaign_requests(providers),
        CAMPAIGN_NOTIFICATION_REQUESTED_V1: _campaign_requests(providers),  # those still on the topic
        # offers: the read model takes each sale or return in as before, the item history a batch
        # at a time (these replace the single handlers above for these types)
        PURCHASE_ATTRIBUTED: _each_then(segments.on_purchase_attributed, item_history.on_purchases_attributed),
        RETURN_ATTRIBUTED: _each_then(segments.on_return_attributed, item_history.on_returns_attributed),
    })


def _staff(providers: ProvidersSource) -> StaffDirectory | None:
    made = providers()
    return made.staff if made else None


def _member_requests(providers: ProvidersSource) -> Handler:
    async def handler(uow: UnitOfWork, delivery: Delivery) -> None:
        await messages.on_member_notification_requested(uow, delivery, _staff(providers))

    return handler


def _campaign_requests(providers: ProvidersSource) -> BatchHandler:
    async def handler(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        await messages.on_campaign_notifications_requested(uow, deliveries, _staff(providers))

    return handler


def _customer_facts() -> BatchHandler:
    async def handler(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        await segments.on_customer_facts(uow, deliveries)
        await cards.on_members_registered(uow, [d for d in deliveries if d.envelope.type == MEMBER_REGISTERED])

    return handler


def _each_then(each: Handler, batch: BatchHandler) -> BatchHandler:
    async def handler(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            await each(uow, delivery)
        await batch(uow, deliveries)

    return handler
