"""A service's refusal of a console form, as the person is told it: each field the service names
under the form's own label with its reason worded from pydantic's error type (and its limits),
a sentence the services are known to say in the person's language, and anything else shown as the
service wrote it after a Chinese prefix, never hidden."""

import re
from collections.abc import Callable

import pytest

from gateway.api.console import catalogue
from gateway.api.console.i18n import translations
from gateway.api.console.refusals import KNOWN, LABELS, REASONS, explain
from gateway.api.console.render import environment, refused_fields
from gateway.domain.refusals import FormProblems
from gateway.domain.segment_form import Built
from gateway.domain.staff import LoginFailed, SecondFactorWrong
from gateway.service_layer.console_reads import ServiceRefused
from shared.auth import Principal, Role
from shared.errors import Conflict, Invalid, NotOneOf, TooManyRequests
from shared.policy import POLICY, AccessDenied, Grant

pytestmark = pytest.mark.unit

zh = translations("zh-CN").gettext
en = translations("en").gettext


def error(field: str, type_: str, msg: str, **ctx: object) -> dict[str, object]:
    return {"loc": ["body", field], "msg": msg, "type": type_, "input": None, **({"ctx": ctx} if ctx else {})}


@pytest.mark.parametrize(("detail", "shown"), [
    ([error("phone", "string_pattern_mismatch", "String should match pattern '^1[3-9][0-9]{9}$'", pattern="^1[3-9][0-9]{9}$")],
     "电话：应为 11 位手机号码"),
    ([error("contact", "string_pattern_mismatch", "String should match pattern '^\\S'", pattern="^\\S")], "联系对象：格式不正确"),
    ([error("name", "string_too_long", "String should have at most 50 characters", max_length=50)], "姓名：最多 50 个字符"),
    ([error("address", "string_too_short", "String should have at least 2 characters", min_length=2)], "地址：至少 2 个字符"),
    ([error("rating", "greater_than_equal", "Input should be greater than or equal to 1", ge=1)], "效果评价（1 差 至 5 很好）：不能小于 1"),
    ([error("rating", "less_than_equal", "Input should be less than or equal to 5", le=5)], "效果评价（1 差 至 5 很好）：不能大于 5"),
    ([error("community", "missing", "Field required")], "小区：必填"),
    ([error("points", "int_parsing", "Input should be a valid integer, unable to parse string as an integer")], "补偿积分：应为整数"),
    ([error("birthday", "date_from_datetime_parsing", "Input should be a valid date or datetime, input is too short",
            error="input is too short")], "生日：应为日期（年-月-日）"),
    ([error("method", "literal_error", "Input should be 'phone', 'sms' or 'wechat'", expected="'phone', 'sms' or 'wechat'")],
     "方式：只能是以下之一：电话 / 短信 / 微信"),
    # A validator's own words: the summary of its ctx quotes the error, the message does not.
    ([error("name", "value_error", "Value error, must not be blank", error='"must not be blank"')], "姓名：不能为空"),
    ([{"loc": ["body", "consents", "sms"], "msg": "Input should be a valid boolean", "type": "bool_type"}], "同意接收营销短信：应为“是”或“否”"),
    ([error("nickname", "extra_forbidden", "Extra inputs are not permitted")], "nickname：此表单不接受该项"),
])
def test_each_field_of_a_validation_error_is_named_by_its_label_with_a_chinese_reason(detail, shown) -> None:
    assert explain(detail, zh) == shown


def test_several_fields_are_told_together_and_the_limits_of_ctx_are_used() -> None:
    detail = [error("name", "string_too_long", "whatever the service wrote", max_length=20), error("phone", "missing", "Field required")]
    assert explain(detail, zh) == "姓名：最多 20 个字符；电话：必填"


def test_a_list_flattened_into_a_string_is_read_back_from_pydantic_s_english() -> None:
    # As console_reads passes it on: "<field>: <msg>; <field>: <msg>", the type and ctx left behind.
    flattened = "phone: String should match pattern '^1[3-9][0-9]{9}$'; card_no: String should have at most 32 characters; name: Field required"
    assert explain(flattened, zh) == "电话：应为 11 位手机号码；卡号：最多 32 个字符；姓名：必填"
    assert explain("tracked_on: is 2026-12-09, in the future (today is 2026-12-01)", zh) == "日期：2026-12-09 是将来的日期（今天是 2026-12-01）"


@pytest.mark.parametrize(("detail", "shown"), [
    ("member is erased (m-1): nothing more is recorded about them", "该顾客的资料已删除，不能再记录任何内容。"),
    ("member m-1 was already erased on 2026-12-07T15:47+08:00", "该顾客的资料已于 2026-12-07 15:47 删除。"),
    ("balance 120 is below the price of 500 points", "积分不足：余额 120，该赠品需 500 积分。"),
    ("gift cushion is out of stock at store S001", "赠品 cushion 在门店 S001 已无库存。"),
    ("Idempotency-Key 'k-1' was already used for another registration", "此表单已用于另一项操作：请刷新页面后重新填写。"),
    ("Idempotency-Key k-1 was used for a different redemption", "此表单已用于另一项操作：请刷新页面后重新填写。"),
    ("phone is already registered to another member", "该电话号码已登记给另一位顾客。"),
    ("a gift register entry that is handed_over cannot become cancelled", "该赠品登记为“已发放”，不能改为“已取消”。"),
    ("cannot start a complaint that is filed: acknowledge it first", "投诉当前为“已登记”：请先受理"),
    ("compensation.points: 5000 exceeds the limit of 1000 (CRM_COMPENSATION_POINTS_MAX)", "补偿积分：超过上限 1000"),
    ("role marketing may not members.member.register", "您的角色（市场营销）无权执行此操作。"),
    ("points cannot be reached (ConnectError)", "积分服务暂时没有应答，请稍后再试。"),
    ("points answered 503", "积分服务暂时没有应答，请稍后再试。"),
    ("feedback is not configured", "反馈服务暂时没有应答，请稍后再试。"),
    ("job points-expiry failed; the service log has the error", "任务 points-expiry 运行失败：错误记在该服务的日志里。"),
    ("no job nothing; jobs: points-expiry, processed-events-cleanup", "这里没有任务 nothing；现有的任务：points-expiry, processed-events-cleanup"),
    ("no campaign nonexistent", "未找到该营销活动。"),
    ("no dead letter 9-9", "未找到该死信。"),
    ("dead letter 3-0 was already replayed or discarded", "该死信已被重放或丢弃。"),
    ("1 dead letters match now, not the -1 of the dry run: run the dry run again", "现在匹配 1 条死信，而不是试运行时的 -1 条：请重新试运行。"),
    ("points failed with an error of its own (500)", "积分服务处理此请求时出错：如再次出现，请告知运维人员。"),
    ("an ended campaign cannot resume", "该活动当前为“已结束”：现在不能执行此操作。"),
    ("amount: more off than the threshold to reach", "减免金额（元）：优惠金额不能超过使用门槛"),
    ("budget: the template allows 10 coupons, the campaign would issue 30", "budget：将发放 30 张优惠券，超过上限 10 张：请提高上限或缩小客群"),
    # the information base's download of a community's customers or a customer's purchases, named by what it lacks
    ("community_id: required for this level", "小区：此级别必须填写"),
    ("member_id: required for this level", "客户：此级别必须填写"),
    # campaigns' checks of a template and a campaign as a whole, each field of the form by its label
    ([{"loc": ["body"], "msg": "Value error, threshold does not apply to a amount_off coupon", "type": "value_error"}],
     "此类优惠券不使用“满（元）”：请留空。"),
    ([{"loc": ["body"], "msg": "Value error, amount is required for a threshold coupon", "type": "value_error"}],
     "此类优惠券需要填写：减免金额（元）。"),
    # A rule naming its field: under the field's label (the form's word, 客群), which the form marks.
    ("segment_id: a one-off campaign needs a segment", "客群（一次性活动）：请选择客群"),
    ("to: must not be before from", "截止日期：不能早于开始日期"),
    ("to: must be a date from 1000-01-01 to 9998-12-31", "截止日期：应为 1000-01-01 至 9998-12-31 之间的日期"),
    ([error("validity.days", "int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")],
     "有效天数（自发放日起）：位数过多"),
    ("nothing is named '..'", "未找到。"),
])
def test_a_refusal_the_services_are_known_to_say_is_told_in_chinese(detail, shown) -> None:
    assert explain(detail, zh) == shown


def test_a_choice_a_service_layer_checks_is_worded_as_a_literal_of_the_schema() -> None:
    # A value typed into a console address that no form offers: the choices in the person's words.
    status = NotOneOf("status", ("filed", "acknowledged", "in_progress"))
    assert str(status) == "status: Input should be 'filed', 'acknowledged' or 'in_progress'"
    assert explain(str(status), zh) == "状态：只能是以下之一：已登记 / 已受理 / 处理中"
    assert explain(str(status), en) == "Status: one of: Filed / Acknowledged / In progress"
    assert explain(str(NotOneOf("kind", ["monthly"])), zh) == "类型：只能是以下之一：按月"
    # A field no label names keeps its name before the choices.
    assert explain(str(NotOneOf("cadence", ["monthly"])), zh) == "cadence：只能是以下之一：按月"


def test_an_unknown_refusal_is_shown_as_the_service_wrote_it_after_a_chinese_prefix() -> None:
    assert explain("the moon is in the wrong phase", zh) == "系统拒绝：the moon is in the wrong phase"
    # A field's reason nobody worded here: the field's label, then the service's own words.
    assert explain("phone: too lunar", zh) == "电话：too lunar"
    assert explain([error("lines.0.sku", "sku_unknown", "no such SKU")], zh) == "lines.0.sku：no such SKU"


def test_a_promotion_whose_end_has_passed_is_refused_in_the_person_s_language_at_the_console_s_time() -> None:
    said = "valid_until: 2026-12-05T22:00+0800 has passed: no offer list could ever carry this promotion"
    assert explain(said, zh) == "有效期至：2026-12-05 22:00 已过：任何一期优惠清单都不会包含此促销"
    assert explain(said, en) == "Valid until: 2026-12-05 22:00 has passed: no offer list could ever carry this promotion"
    assert refused_fields(ServiceRefused("campaigns", 422, "...", said=said)) == ["valid_until"]


@pytest.mark.parametrize("said", [
    "segment_id: segment 4f0c2f8e-1b9a-4a51-9d43-5c2c7a1e0b6d is archived; create a new one",  # a draft's launch, a new campaign
    "segment 4f0c2f8e-1b9a-4a51-9d43-5c2c7a1e0b6d is archived; create a new one",  # the segment's own change
])
def test_a_segment_archived_since_is_said_in_the_person_s_language(said) -> None:
    shown = "该客群已归档：请选择启用中的客群，或新建一个"
    assert explain(said, zh) == (f"客群（一次性活动）：{shown}" if said.startswith("segment_id") else shown)
    assert explain(said, en).endswith("the segment was archived: choose an active segment, or save a new one")


def test_in_english_the_same_refusals_read_as_english() -> None:
    assert explain([error("name", "string_too_long", "x", max_length=50)], en) == "Name: at most 50 characters"
    assert explain("the moon is in the wrong phase", en) == "Refused by the system: the moon is in the wrong phase"


@pytest.mark.parametrize(("detail", "english", "chinese"), [
    ([error("address", "string_too_short", "String should have at least 2 characters", min_length=2)],
     "Address: at least 2 characters", "地址：至少 2 个字符"),
    ([error("name", "string_too_long", "String should have at most 1 character", max_length=1)], "Name: at most 1 character", "姓名：最多 1 个字符"),
    ("lines: List should have at least 1 item after validation, not 0", "lines: at least 1 item", "lines：至少 1 项"),
    ("new_password: at least 1 character", "New password: at least 1 character", "新密码：至少 1 个字符"),
    ("1 dead letters match now, not the 2 of the dry run: run the dry run again",
     "1 dead letter matches now, not the 2 of the dry run: run the dry run again.", "现在匹配 1 条死信，而不是试运行时的 2 条：请重新试运行。"),
    ("3 dead letters match now, not the 1 of the dry run: run the dry run again",
     "3 dead letters match now, not the 1 of the dry run: run the dry run again.", "现在匹配 3 条死信，而不是试运行时的 1 条：请重新试运行。"),
])
def test_a_limit_of_one_is_worded_in_the_singular(detail, english, chinese) -> None:
    assert (explain(detail, en), explain(detail, zh)) == (english, chinese)


def test_a_second_compensation_is_refused_with_the_first_one_s_time_as_the_console_shows_times() -> None:
    # Feedback names the first grant's moment in ISO with its offset, in the chain's zone.
    said = "compensation was already granted on 2026-12-08T06:39+08:00; a complaint is compensated once"
    assert explain(said, en) == "Compensation was already granted on 2026-12-08 06:39: a complaint is compensated once."
    assert explain(said, zh) == "已于 2026-12-08 06:39 给予补偿：每宗投诉只补偿一次。"


def test_an_erasure_asked_again_is_refused_with_the_first_one_s_time_as_the_console_shows_times() -> None:
    # Finding: the console said 该顾客的资料已于 2026-12-08T08:41+08:00 删除, members' ISO moment as it came.
    said = "member 618206b6-370a-4c0a-84df-f26de9ec5f04 was already erased on 2026-12-08T08:41+08:00"
    assert explain(said, en) == "This customer's data was already erased, on 2026-12-08 08:41."
    assert explain(said, zh) == "该顾客的资料已于 2026-12-08 08:41 删除。"


def test_every_label_reason_and_known_sentence_is_in_the_chinese_catalogue() -> None:
    zh_cn = catalogue.read("zh-CN")
    messages = [*LABELS.values(), *(m for w in [*REASONS.values(), *KNOWN] for m in (w.message, w.one[1]) if m)]
    assert [m for m in messages if m != "%(error)s" and not (zh_cn.get(m) and zh_cn.get(m).string)] == []


@pytest.mark.parametrize(("count", "english", "chinese"), [(1, "Total: 1 contact", "合计：1 次联系"), (3, "Total: 3 contacts", "合计：3 次联系")])
def test_a_count_on_a_page_takes_the_english_singular_or_plural(count, english, chinese) -> None:
    words = 'ngettext("Total: %(num)s contact", "Total: %(num)s contacts", n)'
    shown = [environment(language).from_string("{{ " + words + " }}").render(n=count) for language in ("en", "zh-CN")]
    assert shown == [english, chinese]


@pytest.mark.parametrize(("refusal", "fields"), [
    (ServiceRefused("members", 422, "...", said=[error("phone", "string_pattern_mismatch", "String should match pattern"),
                                                 {"loc": ["body", "consents", "sms"], "msg": "x", "type": "bool_type"}]),
     ["phone", "consents.sms"]),
    (ServiceRefused("members", 422, "tracked_on: is 2026-12-09, in the future (today is 2026-12-06)"), ["tracked_on"]),
    (Invalid("period", "YYYY-MM for a month or YYYY-Qn for a quarter, of the years 1000 to 9998"), ["period"]),
    (NotOneOf("waiting_on", ("desk", "store_manager")), ["waiting_on"]),
    # A sentence naming no field marks none; nor does a login refused, which never says which was wrong.
    (ServiceRefused("points", 409, "balance 120 is below the price of 500 points"), []),
    (Conflict("the gift shelf is being restocked"), []),
    (LoginFailed(), []),
    (SecondFactorWrong(), []),
    (TooManyRequests("login: too many attempts"), []),
])
def test_the_fields_a_refusal_names_are_those_the_form_marks(refusal, fields) -> None:
    assert refused_fields(refusal) == fields


def body_rule(msg: str) -> list[dict[str, object]]:
    """A rule of the whole body naming its field first, as pydantic locates a model validator's error."""
    return [{"loc": ["body"], "msg": f"Value error, {msg}", "type": "value_error", "input": {}, "ctx": {"error": msg}}]


@pytest.mark.parametrize(("said", "shown", "fields"), [
    # As campaigns answers a form that does not locate its rules itself: the field's label and the reason.
    (body_rule("amount: more off than the threshold to reach"), "减免金额（元）：优惠金额不能超过使用门槛", ["amount"]),
    (body_rule("segment_id: a one-off campaign needs a segment"), "客群（一次性活动）：请选择客群", ["segment_id"]),
    (body_rule("trigger: a triggered campaign needs one"), "时机：请选择时机", ["trigger"]),
    # As a form locates them (`at_form_fields`), the same.
    ([{"loc": ["body", "segment_id"], "msg": "a one-off campaign needs a segment", "type": "service_rule"}],
     "客群（一次性活动）：请选择客群", ["segment_id"]),
    ("trigger: a triggered campaign needs one", "时机：请选择时机", ["trigger"]),
    ("trigger: only a triggered campaign has one", "时机：只有触发式活动才有时机：请留空", ["trigger"]),
])
def test_a_rule_naming_its_field_first_is_worded_under_that_field_which_is_marked(said, shown, fields) -> None:
    assert explain(said, zh) == shown
    assert refused_fields(ServiceRefused("campaigns", 422, "...", said=said)) == fields


@pytest.mark.parametrize(("detail", "shown"), [
    # A box left empty is required, whatever length the service asks of it, and a select too.
    ([error("member_id", "string_too_short", "String should have at least 1 character", min_length=1)], "客户：必填"),
    ("contact: String should have at least 1 character", "联系对象：必填"),
    ([{**error("login", "string_too_short", "String should have at least 2 characters", min_length=2), "input": ""}], "登录名：必填"),
    ([{**error("login", "string_too_short", "String should have at least 2 characters", min_length=2), "input": "a"}],
     "登录名：至少 2 个字符"),
])
def test_an_empty_box_is_told_as_required(detail, shown) -> None:
    assert explain(detail, zh) == shown


@pytest.mark.parametrize(("said", "shown"), [
    ("store_rates: S001 is given twice", "门店倍率（门店编号 = 倍率，每行一个）：S001 填写了两次"),
    ("category_multipliers: dairy is given twice", "品类倍数（品类 = 倍数，每行一个）：dairy 填写了两次"),
    ("category_multipliers: dairy also in excluded_categories; give a category a multiplier or exclude it",
     "品类倍数（品类 = 倍数，每行一个）：dairy 同时被排除：一个品类要么设倍数，要么排除"),
])
def test_a_rate_given_twice_is_told_under_its_box_s_label_not_its_name(said, shown) -> None:
    assert explain(said, zh) == shown


def test_an_unticked_confirmation_is_asked_to_be_ticked() -> None:
    assert explain(str(NotOneOf("confirm", ("yes",))), zh) == "确认：请勾选确认框"
    assert explain([error("confirm", "literal_error", "Input should be 'yes'", expected="'yes'")], zh) == "确认：请勾选确认框"
    # Any other choice is listed, as before.
    assert explain(str(NotOneOf("format", ("csv", "xlsx"))), zh) == "下载格式：只能是以下之一：csv / xlsx"


@pytest.mark.parametrize(("detail", "shown"), [
    # A share or a percentage is a number, not an amount of money.
    ([error("control_share", "decimal_parsing", "Input should be a valid decimal")], "对照组比例（0 至 0.5）：应为数字，如 0.1"),
    ([error("percent", "decimal_parsing", "Input should be a valid decimal")], "折扣（百分比）：应为数字，如 15"),
    ([error("amount", "decimal_parsing", "Input should be a valid decimal")], "减免金额（元）：应为金额，如 20.00"),
])
def test_a_decimal_is_worded_as_money_only_where_it_is_money(detail, shown) -> None:
    assert explain(detail, zh) == shown


def test_a_message_lacking_its_parameter_names_the_box_that_gives_it() -> None:
    said = "message.params: template 'x' needs tip, which this campaign does not supply: give them in message.params"
    assert explain(said, zh) == "消息：提示消息需要提示内容：请填写提示内容"
    assert "tip" not in explain(said, zh)


def test_a_compensation_coupon_s_limit_is_money_and_the_points_limit_a_count() -> None:
    coupon = "compensation.coupon_value: 999999 exceeds the limit of 500.00 (CRM_COMPENSATION_COUPON_MAX)"
    assert explain(coupon, zh) == "补偿优惠券面值：超过上限 ¥500.00"
    points = "compensation.points: 5000 exceeds the limit of 1000 (CRM_COMPENSATION_POINTS_MAX)"
    assert explain(points, zh) == "补偿积分：超过上限 1000"


def test_a_report_s_unknown_account_manager_is_told_in_chinese() -> None:
    assert explain("manager_id: no staff member nobody", zh) == "客户经理：没有此员工"


def test_several_problems_of_a_form_are_told_and_marked_together_each_part_by_its_shown_name() -> None:
    refused = FormProblems([
        {"loc": ["count", "pillow"], "msg": "a whole number of units from 0 to 1000000", "shown_as": "靠枕"},
        {"loc": ["count", "towel"], "msg": "a whole number of units from 0 to 1000000"},
    ])
    assert refusal_text(refused) == "本次盘点数 靠枕：须为 0 到 1000000 之间的整数件数；本次盘点数 towel：须为 0 到 1000000 之间的整数件数"
    assert refused_fields(refused) == ["count.pillow", "count.towel"]
    assert refused.status_code == 422


def refusal_text(refused: FormProblems) -> str:
    return explain(refused.detail(), zh)


def test_a_segment_name_taken_is_told_at_the_segment_s_name() -> None:
    said = Built(rule={}).refusal("name: a segment named 'VIP' exists already")
    assert refused_fields(ServiceRefused("campaigns", 409, "...", said=said)) == ["segment_name"]
    assert explain(said, zh) == "客群名称：已有同名客群"


@pytest.mark.parametrize(("said", "shown"), [
    ("as_of: 2026-12-08T01:00:00+00:00 is later than the service's clock (2026-12-07T06:00:00+00:00, allowing 120 s of clock skew); "
     "a job runs for now or a past moment, never ahead of time",
     "业务时间（留空为现在）：2026-12-08 01:00 晚于服务的时钟（2026-12-07 06:00）：任务只能为现在或过去的时刻运行"),
    ("as_of: job event-flow-sample reads how the platform is now and cannot be run for a past moment; leave as_of out",
     "业务时间（留空为现在）：该任务读取平台当前的状态：业务时间请留空"),
])
def test_a_job_run_refused_for_its_moment_is_told_in_chinese(said: str, shown: str) -> None:
    assert explain(said, zh) == shown


def test_a_message_announcing_a_coupon_the_campaign_does_not_give_is_told_in_chinese_at_the_coupon_box() -> None:
    # As campaigns' model validator answers it (`campaigns.domain.campaigns.unbacked_coupon`).
    said = body_rule("coupon_template_id: message template 'coupon_offer' tells each member a coupon is in their wallet, "
                     "and the campaign gives none: choose the coupon's template, or another message")
    assert explain(said, zh) == "优惠券模板：“所发优惠券”消息告诉顾客优惠券已放入会员卡包：请选择优惠券模板，或换一条消息"
    assert refused_fields(ServiceRefused("campaigns", 422, "...", said=said)) == ["coupon_template_id"]


def test_a_campaign_giving_neither_a_coupon_nor_a_message_is_told_in_chinese_at_the_coupon_box() -> None:
    # As campaigns' model validator answers it: a rule of the whole body naming its field first.
    said = body_rule("coupon_template_id: a campaign gives a coupon, a message or both")
    assert explain(said, zh) == "优惠券模板：活动至少要发放优惠券或发送消息：请选择优惠券模板，或填写消息"
    assert refused_fields(ServiceRefused("campaigns", 422, "...", said=said)) == ["coupon_template_id"]


@pytest.mark.parametrize(("refusal", "shown", "fields"), [
    (ServiceRefused("members", 409, "phone is already registered to another member"), "该电话号码已登记给另一位顾客。", ["phone"]),
    (ServiceRefused("members", 409, "card_no is already registered to another member"), "该卡号已登记给另一位顾客。", ["card_no"]),
    (ServiceRefused("members", 409, "phone or card_no is already registered"), "该电话号码或卡号已被登记。", ["phone", "card_no"]),
    (Conflict("login demo.desk is taken"), "登录名 demo.desk 已被使用。", ["login"]),
    (Conflict("login demo.desk is taken, or a creation under this Idempotency-Key is under way: send it again"),
     "登录名 demo.desk 已被使用，或同一表单正在提交中。", ["login"]),
])
def test_a_value_already_registered_marks_the_box_that_holds_it(refusal, shown, fields) -> None:
    # The services say these as a sentence, not "field: reason": the box is still the one to change.
    assert explain(refusal.detail() if not isinstance(refusal, ServiceRefused) else refusal.said, zh) == shown
    assert refused_fields(refusal) == fields


def test_a_bad_key_of_a_mapping_is_named_by_the_box_and_the_key_without_the_validation_path() -> None:
    said = [{"loc": ["body", "channel_rates", "foo", "[key]"], "msg": "Input should be 'retail' or 'partner'", "type": "enum",
             "input": "foo", "ctx": {"expected": "'retail' or 'partner'"}}]
    assert explain(said, zh) == "渠道倍率 foo：只能是以下之一：retail / partner"
    assert refused_fields(ServiceRefused("points", 422, "...", said=said)) == ["channel_rates.foo"]


def test_a_job_run_ahead_of_the_clock_is_told_in_the_chain_s_time_to_the_minute() -> None:
    said = ("as_of: 2030-01-01T10:00+08:00 is later than the service's clock (2026-12-07T16:23+08:00, allowing 120 s of clock skew); "
            "a job runs for now or a past moment, never ahead of time")
    assert explain(said, zh) == "业务时间（留空为现在）：2030-01-01 10:00 晚于服务的时钟（2026-12-07 16:23）：任务只能为现在或过去的时刻运行"
    assert explain(said, en) == ("As of (empty: now): 2030-01-01 10:00 is later than the service's clock (2026-12-07 16:23): "
                                 "a job runs for now or a past moment")
    # Both moments as the console shows times elsewhere, not as ISO text with its "T", offset and fraction.
    to_the_second = ("as_of: 2026-12-08T00:26:01.123456+00:00 is later than the service's clock (2026-12-08T00:25:30+00:00, "
                     "allowing 5 s of clock skew); a job runs for now or a past moment, never ahead of time")
    assert explain(to_the_second, en) == ("As of (empty: now): 2026-12-08 00:26:01 is later than the service's clock "
                                          "(2026-12-08 00:25:30): a job runs for now or a past moment")


def store_refusals() -> dict[str, str]:
    """Each store refusal the policy words (`shared.policy.Grant`), as it words it: every action and
    role of the policy, with a token bound to store S001 and with none, asking for store S002 and for
    no store. Taken from the policy itself, not copied from it, so that a wording added or changed
    there is met here. Keyed by the message with its action and role left out, one of each form."""
    asks: list[Callable[[Grant], object]] = [
        lambda grant: grant.ensure_store("S002"), lambda grant: grant.ensure_store(None),
        lambda grant: grant.ensure_home_store("S002"), lambda grant: grant.ensure_home_store(None),
        lambda grant: grant.store_filter("S002"),
    ]
    said: dict[str, str] = {}
    for action, scopes in POLICY.items():
        for role in scopes:
            for store in ("S001", None):
                grant = Grant.of(Principal(subject="someone", role=role, store_id=store, member_id="m-1"), action)
                for ask in asks:
                    try:
                        ask(grant)
                    except AccessDenied as refused:
                        said.setdefault(str(refused).replace(f"({action})", "(action)").replace(role, "<role>"), str(refused))
    return said


def test_every_store_refusal_of_the_policy_is_told_in_the_person_s_language() -> None:
    said = store_refusals()
    # The forms the policy has now, at least: bound to another store (with the store field named and
    # the action after it, for a report), to no store named, a home store not the token's (another,
    # or none), another store's report, a token naming no store. Fewer: the calls above miss some.
    assert len(said) >= 7, said
    for form, message in said.items():
        chinese, english = explain(message, zh), explain(message, en)
        # Neither the English sentence nor the action the API names reaches the page: only ids do.
        assert not re.search(r"[a-z]{2,}", chinese), (form, chinese)
        assert "token" not in english and "(" not in english and "Refused by the system" not in english, (form, english)


@pytest.mark.parametrize(("role", "action", "ask", "chinese", "english"), [
    # The desk's report of another store (as members answers /v1/infobase?store_id=S002).
    (Role.SERVICE_DESK, "members.infobase.read", lambda grant: grant.store_filter("S002"),
     "门店：您属于门店 S001，不能为门店 S002 办理。", "Store: You work for store S001, not for store S002."),
    (Role.ACCOUNT_MANAGER, "members.tracking.read", lambda grant: grant.store_filter("S002"),
     "门店：您属于门店 S001，不能为门店 S002 办理。", "Store: You work for store S001, not for store S002."),
    (Role.STORE_MANAGER, "members.infobase.read", lambda grant: grant.store_filter("S002"),
     "门店：只能是本门店 S001", "Store: only your own store S001"),
    (Role.SERVICE_DESK, "points.redemption.handle", lambda grant: grant.ensure_store("S002"),
     "您属于门店 S001，不能为门店 S002 办理。", "You work for store S001, not for store S002."),
    (Role.SERVICE_DESK, "points.redemption.handle", lambda grant: grant.ensure_store(None),
     "您属于门店 S001：请选择本门店。", "You work for store S001: choose your own store."),
    (Role.STORE_MANAGER, "members.member.register", lambda grant: grant.ensure_home_store("S002"),
     "门店：只能是本门店 S001", "Store: only your own store S001"),
    (Role.STORE_MANAGER, "members.member.update", lambda grant: grant.ensure_home_store(None),
     "门店：只能是本门店 S001", "Store: only your own store S001"),
])
def test_a_store_refusal_says_which_store_the_person_works_for(role, action, ask, chinese, english) -> None:
    grant = Grant.of(Principal(subject="someone", role=role, store_id="S001"), action)
    with pytest.raises(AccessDenied) as refused:
        ask(grant)
    assert (explain(str(refused.value), zh), explain(str(refused.value), en)) == (chinese, english)


def test_a_store_scoped_account_naming_no_store_is_told_so() -> None:
    unbound = Grant.of(Principal(subject="someone", role=Role.STORE_MANAGER), "members.infobase.read")
    with pytest.raises(AccessDenied) as refused:
        unbound.store_filter(None)
    assert (explain(str(refused.value), zh), explain(str(refused.value), en)) == ("您的账号未绑定门店。", "Your account names no store.")
