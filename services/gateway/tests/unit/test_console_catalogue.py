"""The console speaks zh-CN: every message of its templates and code is in the catalogue and
translated there, and the catalogue compiles (it is compiled in memory at start-up)."""

from gateway.api.console import catalogue
from gateway.api.console.i18n import translations
from gateway.api.console.render import SHOWN_AS_DATA, environment


def test_every_console_message_is_translated_into_chinese() -> None:
    assert catalogue.problems() == [], "run python -m gateway.api.console.catalogue and translate what it lists"


def test_the_catalogue_compiles_and_english_is_the_messages_themselves() -> None:
    assert translations("zh-CN").gettext("Log in") == "登录"
    assert translations("zh-CN").gettext("You are logged in as %(subject)s, role: %(role)s.") % {"subject": "s", "role": "r"} == "您已登录为 s，角色：r。"
    assert translations("en").gettext("Log in") == "Log in"


def test_english_words_every_code_shown_as_data() -> None:
    english = catalogue.read("en")
    assert sorted(w for w in SHOWN_AS_DATA if not (english.get(w) and english.get(w).string)) == []
    assert translations("en").gettext("service_desk") == "Service desk"
    assert translations("en").gettext("vip") == "VIP"


def test_a_code_the_catalogue_does_not_know_is_shown_escaped() -> None:
    for language in ("zh-CN", "en"):
        page = environment(language).from_string(
            '{{ _(status) }} | {{ _("Log in") }} | {{ ngettext("%(num)s purchase", "%(num)s purchases", n) }} | {{ _("%(who)s", who=who) }}')
        html = page.render(status="<img src=x onerror=alert(1)>", n=2, who="<b>")
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "&lt;b&gt;" in html and "<b>" not in html
    assert environment("zh-CN").from_string('{{ _("Log in") }} {{ _(s) }}').render(s="vip") == "登录 VIP"


def test_a_community_is_a_xiaoqu_as_in_the_reports_the_console_prints_beside_the_services() -> None:
    # members' reports and CSV exports head the column "小区 Community" (the chain's residential
    # communities); the console's forms, tables and refusals must not call the same place 社区.
    zh = catalogue.read("zh-CN")
    assert translations("zh-CN").gettext("Community") == "小区"
    assert [m.id for m in zh if m.id and "社区" in str(m.string)] == []


def test_an_erased_customer_is_named_in_the_console_s_language_and_every_other_name_as_it_is() -> None:
    # Members keeps 已注销用户 as an erased customer's name; a name that is also a message is a name.
    page = '{{ erased|customer }} | {{ named|customer }} | {{ none|customer or "m-1" }}'
    for language, erased in (("en", "Erased customer"), ("zh-CN", "已注销用户")):
        shown = environment(language).from_string(page).render(lang=language, erased="已注销用户", named="Log in", none=None)
        assert shown == f"{erased} | Log in | m-1"
