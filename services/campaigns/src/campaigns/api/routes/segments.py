"""Saved segments and previews (marketing). The rule language is in campaigns.domain.segments."""

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from campaigns.adapters.tables import SegmentRow
from campaigns.domain.segments import CheckedRule, SegmentRule
from campaigns.service_layer import segments
from campaigns.service_layer.create_once import CreateRequest, create_once
from shared.authorize import Allowed
from shared.bodies import Body
from shared.deps import CommandsDep, NowDep, UowDep
from shared.idempotency import OptionalIdempotencyKey
from shared.policy import Grant
from shared.text import NonBlankText, Text
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["segments"])

EXAMPLE_RULE: dict[str, Any] = {
    "and": [
        {"field": "value_class", "op": "in", "value": ["key"]},
        {"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
        {"field": "community", "op": "in", "value": ["C-SUNSHINE"]},
    ]
}


class _WithRule(Body):
    # Depth and size first, so a pathological tree is refused before it is parsed; a refusal names
    # the place in the rule as sent (`rule.and.0.value.1`).
    rule: CheckedRule = Field(description="A tree of and / or / not over conditions; see the README")

    def segment_rule(self) -> SegmentRule:
        return SegmentRule(rule=self.rule)


class SegmentIn(_WithRule):
    model_config = ConfigDict(
        json_schema_extra={"example": {"name": "Key customers at risk, Sunshine Garden", "description": "",
                                       "rule": EXAMPLE_RULE}},
    )

    name: NonBlankText = Field(max_length=100)
    description: Text = Field(default="", max_length=1000)


class PreviewIn(_WithRule):
    model_config = ConfigDict(json_schema_extra={"example": {"rule": EXAMPLE_RULE}})


class SegmentPublic(BaseModel):
    id: str
    name: str
    description: str
    rule: dict[str, Any]
    status: str
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class SampleCustomerPublic(BaseModel):
    member_id: str
    tier: str | None
    value_class: str | None
    churn_risk: str | None
    community_id: str | None
    home_store_id: str | None


class PreviewOut(BaseModel):
    size: int = Field(description="Customers the rule selects now (erased customers never)")
    sample: list[SampleCustomerPublic] = Field(description="The first of them by member id; ids and classes only")


def _public(row: Any) -> SegmentPublic:
    return SegmentPublic.model_validate(row, from_attributes=True)


def _preview(result: segments.Preview) -> PreviewOut:
    return PreviewOut(size=result.size, sample=[SampleCustomerPublic.model_validate(s, from_attributes=True) for s in result.sample])


@router.post("/segments", status_code=status.HTTP_201_CREATED, summary="Save a segment",
             responses={409: {"description": "A segment of this name exists, or the Idempotency-Key was already used for another request"}})
async def create_segment(
    body: SegmentIn, commands: CommandsDep, grant: Annotated[Grant, Allowed("campaigns.segment.write")],
    response: Response, idempotency_key: OptionalIdempotencyKey = None,
) -> SegmentPublic:
    """With an `Idempotency-Key`, the same key with the same body answers the segment the first
    request saved (200, the same id) rather than a 409 for its name taken: a form sent twice saves
    one. Without one, a second request is refused for the name."""

    def make(uow: UnitOfWork, segment_id: str) -> Awaitable[SegmentRow]:
        return segments.create_segment(uow, name=body.name, description=body.description, rule=body.segment_rule(),
                                       by=grant.principal.subject, now=uow.now(), segment_id=segment_id)

    if idempotency_key is None:
        return _public(await commands.run(lambda uow: make(uow, str(uuid.uuid4()))))
    made = await create_once(commands, CreateRequest("segment", grant.principal.subject, idempotency_key, body), make,
                             segments.get_segment)
    if made.retry:
        response.status_code = status.HTTP_200_OK
    return _public(made.row)


@router.get("/segments", summary="Saved segments by name")
async def list_segments(
    uow: UowDep, _: Annotated[Grant, Allowed("campaigns.segment.read")],
    include_archived: Annotated[bool, Query(description="Archived segments too")] = False,
) -> list[SegmentPublic]:
    return [_public(r) for r in await segments.list_segments(uow, include_archived=include_archived)]


@router.post("/segments/preview", summary="Size and a sample of a rule's audience now; saves nothing")
async def preview_rule(
    body: PreviewIn, uow: UowDep, now: NowDep, _: Annotated[Grant, Allowed("campaigns.segment.read")]
) -> PreviewOut:
    return _preview(await segments.preview(uow, body.segment_rule(), now))


@router.get("/segments/{segment_id}", summary="One saved segment")
async def get_segment(segment_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.segment.read")]) -> SegmentPublic:
    return _public(await segments.get_segment(uow, segment_id))


@router.get("/segments/{segment_id}/preview", summary="Size and a sample of a saved segment's audience now")
async def preview_segment(
    segment_id: str, uow: UowDep, now: NowDep, _: Annotated[Grant, Allowed("campaigns.segment.read")]
) -> PreviewOut:
    row = await segments.get_segment(uow, segment_id)
    return _preview(await segments.preview(uow, segments.rule_of(row), now))


@router.put("/segments/{segment_id}", summary="Change a segment's name, description or rule")
async def update_segment(
    segment_id: str, body: SegmentIn, uow: UowDep, now: NowDep,
    grant: Annotated[Grant, Allowed("campaigns.segment.write")],
) -> SegmentPublic:
    row = await segments.update_segment(
        uow, segment_id, name=body.name, description=body.description, rule=body.segment_rule(),
        by=grant.principal.subject, now=now,
    )
    return _public(row)


@router.delete("/segments/{segment_id}", summary="Archive a segment (kept for the campaigns that used it)")
async def archive_segment(
    segment_id: str, uow: UowDep, now: NowDep, grant: Annotated[Grant, Allowed("campaigns.segment.write")]
) -> SegmentPublic:
    return _public(await segments.archive_segment(uow, segment_id, by=grant.principal.subject, now=now))
