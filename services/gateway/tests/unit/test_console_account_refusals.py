"""What the gateway's staff-account rules say (`gateway.domain.staff`, `service_layer.staff`), as the
console's account forms tell it in Chinese: under the field's label, the role put into words."""

import pytest

from gateway.api.console.i18n import translations
from gateway.api.console.refusals import explain
from gateway.api.console.render import refused_fields
from shared.errors import Conflict, Invalid, NotFound

pytestmark = pytest.mark.unit

zh = translations("zh-CN").gettext


@pytest.mark.parametrize(("refusal", "shown", "fields"), [
    (Invalid("store_id", "the role store_manager works for one store: store_id is required"), "门店：店长在一家门店工作：请填写门店", ["store_id"]),
    (Invalid("store_id", "the role operator is not bound to a store"), "门店：运维人员不属于某一门店：请留空", ["store_id"]),
    (Invalid("account_manager_id", "the role marketing is not in the staff directory"), "员工名录编号：市场营销不在员工名录中：请留空",
     ["account_manager_id"]),
    (Invalid("account_manager_id", "1 to 64 letters, digits, '.', '_' or '-', not beginning with '.'"),
     "员工名录编号：1 至 64 个字母、数字、“.”、“_”或“-”，不以“.”开头", ["account_manager_id"]),
    (Conflict("account_manager_id: am-7 is the staff-directory id of the active account zhou.am"),
     "员工名录编号：am-7 已是在用账号 zhou.am 的员工名录编号", ["account_manager_id"]),
    (Invalid("store_id", "unknown or inactive store S404"), "门店：门店 S404 不存在或已停业", ["store_id"]),
    (Invalid("store_id", "unknown store S404"), "门店：门店 S404 不存在", ["store_id"]),
    (Conflict("login zhou.am is taken"), "登录名 zhou.am 已被使用。", ["login"]),
    (NotFound("no staff account stf_0123456789abcdef"), "未找到该员工账号。", []),
])
def test_each_staff_account_rule_is_told_in_chinese_under_its_field(refusal, shown, fields) -> None:
    assert explain(refusal.detail(), zh) == shown
    assert refused_fields(refusal) == fields
