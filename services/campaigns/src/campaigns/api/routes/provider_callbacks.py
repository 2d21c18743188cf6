"""The SMS provider's pushes: delivery reports and customers' replies. The provider has no token
of ours; the callback address configured in its console carries a shared secret (`?token=`),
compared in constant time with CRM_ALIYUN_CALLBACK_TOKEN: missing 401, wrong (or none configured)
403. Answered as the provider expects, `{"code": 0, "msg": "成功"}`; anything else makes it push
the batch again, which both handlers absorb."""

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from campaigns.adapters.members_api import MembersUnavailable
from campaigns.api.provider_schemas import ProviderAck, SmsReplies, SmsReports
from campaigns.config import Settings
from campaigns.service_layer import delivery_reports, sms_replies
from shared.authorize import public
from shared.deps import UowDep

router = APIRouter(prefix="/v1/providers/aliyun", tags=["provider callbacks"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def provider_secret(request: Request, token: Annotated[str | None, Query(max_length=256)] = None) -> None:
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "token: the provider's shared secret is required")
    expected = _settings(request).aliyun_callback_token.get_secret_value()
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "token: not the configured shared secret")


ProviderOnly = [Depends(public), Depends(provider_secret)]


def _local(at: datetime, request: Request) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=_settings(request).zone)


@router.post("/sms-reports", dependencies=ProviderOnly, summary="Delivery reports (SmsReport push)")
async def sms_reports(body: SmsReports, uow: UowDep, request: Request) -> ProviderAck:
    reports = [
        delivery_reports.Report(message_id=r.out_id, delivered=r.success, code=r.err_code or "",
                                description=r.err_msg or "", at=_local(r.report_time, request))
        for r in body if r.out_id
    ]
    await delivery_reports.apply(uow, reports)
    return ProviderAck()


@router.post("/sms-replies", dependencies=ProviderOnly, summary="Customers' replies (SmsUp push)")
async def sms_replies_push(body: SmsReplies, request: Request) -> ProviderAck:
    forwarder = request.app.state.providers.replies
    if forwarder is None:  # no service token configured: members cannot be told; let the provider retry
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "replies cannot be forwarded to members: no service token")
    replies = [sms_replies.Reply(phone=r.phone_number, text=r.content, received_at=_local(r.send_time, request)) for r in body]
    try:
        await sms_replies.forward(forwarder, replies)
    except MembersUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"members: {exc}") from exc
    return ProviderAck()
