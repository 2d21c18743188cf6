"""What the gateway's rules for tills and services say (`gateway.domain.identity`,
`service_layer.identity`), as the console's client forms tell it in Chinese: under the field's
label, each kind put into words."""

import pytest

from gateway.api.console.i18n import translations
from gateway.api.console.refusals import explain
from gateway.api.console.render import refused_fields
from gateway.domain.identity import ClientKind, binding
from shared.errors import Conflict, Invalid, NotFound, NotOneOf

pytestmark = pytest.mark.unit

zh = translations("zh-CN").gettext


def _refusal(kind: ClientKind, store_id: str | None, service: str | None) -> Invalid:
    with pytest.raises(Invalid) as refused:
        binding(kind, store_id, service)
    return refused.value


@pytest.mark.parametrize(("refusal", "shown", "fields"), [
    (_refusal(ClientKind.TILL, None, None), "门店：收银机属于一家门店：请填写门店", ["store_id"]),
    (_refusal(ClientKind.TILL, "S001", "campaigns"), "服务：收银机不填写服务：请留空", ["service"]),
    (_refusal(ClientKind.SERVICE, None, None), "服务：服务客户端须填写其服务名称", ["service"]),
    (_refusal(ClientKind.SERVICE, None, "Campaigns"), "服务：须为平台的服务之一：members, points, feedback, campaigns（按此处原样填写）", ["service"]),
    (_refusal(ClientKind.SERVICE, "S001", "campaigns"), "门店：服务客户端不属于某一门店：请留空", ["store_id"]),
    (Invalid("store_id", "no store S404; add it with PUT /api/v1/stores/S404 first"), "门店：门店 S404 不存在", ["store_id"]),
    (Invalid("store_id", "store S003 is not active"), "门店：门店 S003 已停业", ["store_id"]),
    # Only an edited address or a forged form sends another kind (the forms offer a choice): the field
    # is named as the service names it, as any field the forms do not label; its choices are worded.
    (NotOneOf("kind", [kind.value for kind in ClientKind]), "类型：只能是以下之一：收银机 / 服务", ["kind"]),
    (Invalid("confirm", "tick the box to confirm that the till or service is to be revoked"),
     "确认：请勾选确认框，确认吊销该收银机或服务", ["confirm"]),
    (Conflict("client till_0123456789abcdef is revoked; enroll a new one"), "该收银机或服务已吊销：请登记新的。", []),
    (NotFound("no client till_0123456789abcdef"), "未找到该收银机或服务。", []),
])
def test_each_client_rule_is_told_in_chinese_under_its_field(refusal, shown, fields) -> None:
    assert explain(refusal.detail(), zh) == shown
    assert refused_fields(refusal) == fields
