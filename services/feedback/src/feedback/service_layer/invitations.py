"""Survey invitations: one per sampled sale or resolved complaint, answered once through a link.
A member's invitation is sent to them: feedback asks the campaigns sender for the message through
its outbox, in the transaction that makes the invitation."""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import SurveyInvitationRow, SurveyTemplateRow
from feedback.config import Settings
from feedback.domain.surveys import invitation_expiry, last_day_to_answer, link_token, token_hash
from feedback.service_layer.events import emit_survey_invitation
from shared.errors import Conflict, Gone, NotFound
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class InvitationNotFound(NotFound):
    """No invitation behind this link."""


class InvitationAnswered(Conflict):
    """The invitation was answered already; it is answered once."""


class InvitationExpired(Gone):
    """The link is past its expiry: it was valid, and is no more."""


@dataclass(frozen=True)
class Invitation:
    row: SurveyInvitationRow
    link: str


def month_of(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


# The gateway's public path for a survey link (gateway/api/routes/surveys.py forwards it here, to
# /v1/surveys/answers/<token>): short enough for an SMS, and on the address customers can reach.
SURVEY_PATH = "/surveys/"


def link_of(settings: Settings, token: str) -> str:
    return settings.public_base + SURVEY_PATH + token


def link_for(settings: Settings, row: SurveyInvitationRow) -> str:
    return link_of(settings, link_token(settings.resolved_survey_token_key(), row.id, row.nonce))


async def default_template(session: AsyncSession) -> SurveyTemplateRow | None:
    return (await session.exec(select(SurveyTemplateRow).where(SurveyTemplateRow.is_default))).first()


async def invite(
    uow: UnitOfWork, settings: Settings, *, source: str, source_ref: str, member_id: str | None,
    store_id: str, now: datetime, template_id: str | None = None,
) -> Invitation | None:
    """The invitation for `source_ref`, made now (and, for a member, asked to be sent) unless it
    exists; None without any template."""
    session = uow.session
    existing = (await session.exec(select(SurveyInvitationRow).where(SurveyInvitationRow.source_ref == source_ref))).first()
    if existing is not None:
        return Invitation(existing, link_for(settings, existing))
    if template_id is None:
        template = await default_template(session)
        if template is None:
            log.warning("no default survey template; no invitation for %s", source_ref)
            return None
        template_id = template.id
    row = SurveyInvitationRow(
        id=str(uuid.uuid4()), template_id=template_id, source=source, source_ref=source_ref, member_id=member_id,
        store_id=store_id, month=month_of(now, settings.business_timezone), nonce=secrets.token_urlsafe(24),
        token_hash="", created_at=now,
        expires_at=invitation_expiry(now, settings.survey_ttl_days, settings.zone),
    )
    token = link_token(settings.resolved_survey_token_key(), row.id, row.nonce)
    row.token_hash = token_hash(token)
    session.add(row)
    await session.flush()
    invitation = Invitation(row, link_of(settings, token))
    if member_id is not None:
        emit_survey_invitation(uow, settings, row, invitation.link)
    return invitation


async def find_invitation(session: AsyncSession, token: str, *, lock: bool = False) -> SurveyInvitationRow:
    query = select(SurveyInvitationRow).where(SurveyInvitationRow.token_hash == token_hash(token))
    row = (await session.exec(query.with_for_update() if lock else query)).first()
    if row is None:
        raise InvitationNotFound("no survey invitation for this link")
    return row


def ensure_usable(row: SurveyInvitationRow, now: datetime, zone: ZoneInfo) -> None:
    """Separate from finding it, so that whose invitation it is can be checked before its state is
    told to anyone."""
    if row.answered_at is not None:
        raise InvitationAnswered(
            f"this survey was already answered on {row.answered_at.astimezone(zone).isoformat(timespec='minutes')}")
    if now >= row.expires_at:
        raise InvitationExpired(
            f"this survey link could be answered until the end of {last_day_to_answer(row.expires_at, zone).isoformat()}")
