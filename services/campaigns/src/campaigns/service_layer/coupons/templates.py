"""Coupon templates: creating one, reading them, and a template's parsed spec."""

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CouponTemplateRow
from campaigns.domain.coupons import TemplateSpec
from shared.db import insert_or_skip
from shared.errors import Conflict, Invalid, NotFound
from shared.unit_of_work import UnitOfWork

TEMPLATE = CouponTemplateRow.__table__  # type: ignore[attr-defined]


async def create_template(uow: UnitOfWork, spec: TemplateSpec, created_by: str, now: datetime, *,
                          template_id: str | None = None) -> CouponTemplateRow:
    """`template_id`: the id chosen for it beforehand (a create under an Idempotency-Key), else a new one."""
    if spec.validity.over(now):
        raise Invalid("validity.valid_until", f"{spec.validity.valid_until:%Y-%m-%dT%H:%M%z} has passed: "
                      "a coupon of this template could never be used")
    if spec.generic_code is not None:
        taken = await uow.session.exec(select(CouponTemplateRow.id).where(CouponTemplateRow.generic_code == spec.generic_code))
        if taken.first() is not None:
            raise Conflict(f"generic_code: {spec.generic_code} is already the code of another template")
    row = CouponTemplateRow(
        id=template_id or str(uuid.uuid4()), name=spec.name, kind=spec.kind.value, spec=spec.model_dump_json(),
        generic_code=spec.generic_code, created_by=created_by, created_at=now,
    )
    uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the code given to another template saved at the same moment (its unique key)
        raise Conflict(f"generic_code: {spec.generic_code} is already the code of another template") from exc
    return row


def ensure_usable(template: CouponTemplateRow, now: datetime, field: str) -> None:
    """Coupons are about to be given from `template` (a campaign created or launched with it, an
    issue by hand): not if its fixed dates have passed, or customers would be told of coupons that
    no till takes. A triggered campaign keeps issuing what it has (its events cannot be refused)."""
    validity = spec_of(template).validity
    if validity.over(now):
        raise Invalid(field, f"template {template.id} was valid until {validity.valid_until:%Y-%m-%dT%H:%M%z}: "
                      "its coupons could never be used")


async def ensure_template(uow: UnitOfWork, template_id: str, spec: TemplateSpec, created_by: str,
                          now: datetime) -> CouponTemplateRow:
    """A template the service makes for itself under an id derived from what it gives (a
    complaint's compensation coupon of one value): written once, by whichever transaction comes
    first (ON CONFLICT: a concurrent one wrote the same), then read like any other."""
    assert spec.generic_code is None  # a generic code is unique: never one a service makes itself
    if (row := await uow.session.get(CouponTemplateRow, template_id)) is not None:
        return row
    await insert_or_skip(uow.session, TEMPLATE, [{
        "id": template_id, "name": spec.name, "kind": spec.kind.value, "spec": spec.model_dump_json(),
        "generic_code": None, "created_by": created_by, "created_at": now,
    }])
    return await get_template(uow.session, template_id)


def spec_of(row: CouponTemplateRow) -> TemplateSpec:
    return parsed_spec(row.spec)


@functools.lru_cache(maxsize=1024)
def parsed_spec(text: str) -> TemplateSpec:
    """Templates are never changed once written, so a till's every validate need not parse the same
    JSON again: cached by the text itself (a changed text would simply be parsed anew)."""
    return TemplateSpec.model_validate_json(text)


async def get_template(session: AsyncSession, template_id: str) -> CouponTemplateRow:
    row = await session.get(CouponTemplateRow, template_id)
    if row is None:
        raise NotFound(f"no coupon template {template_id}")
    return row


async def list_templates(session: AsyncSession, limit: int, offset: int) -> Sequence[CouponTemplateRow]:
    query = select(CouponTemplateRow).order_by(col(CouponTemplateRow.created_at).desc(), col(CouponTemplateRow.id))
    return (await session.exec(query.offset(offset).limit(limit))).all()
