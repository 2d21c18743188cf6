"""What the console marks with a colour it also says another way (WCAG 1.4.1), for a colour-blind
clerk and for a page printed in black and white: an overdue complaint on a customer's page in
words, each line of an event-flow chart by a dash pattern of its own, the same in its legend."""

import re
from zoneinfo import ZoneInfo

import pytest

from gateway.api.console.render import environment
from gateway.domain.event_flow import Chart, Line


def _complaints_of(language: str, overdue: bool) -> str:
    complaint = {"filed_at": "2026-12-01T02:00:00+00:00", "category": "product_quality", "status": "acknowledged",
                 "next_due_at": "2026-12-02T02:00:00+00:00", "overdue": overdue}
    html = environment(language).get_template("staff/customer_360.html").render(
        lang=language, languages={}, menu=[], path="/console/customers/m1", back="/console", user=None, csrf="",
        zone=ZoneInfo("Asia/Shanghai"), member_id="m1", profile={"name": "王小明", "card_no": "8800000012345"},
        view={"unavailable": [], "member": None, "points": None}, away=set(), staff_names={},
        recent_purchases=[], coupons=[], complaints=[complaint], messages=[],
    )
    return html.split('id="h-complaints"')[1].split("</section>")[0]


@pytest.mark.parametrize(("language", "word"), [("zh-CN", "已超期"), ("en", "overdue")])
def test_an_overdue_complaint_says_so_in_the_persons_language(language: str, word: str) -> None:
    assert word in _complaints_of(language, overdue=True)
    assert word not in _complaints_of(language, overdue=False)


def test_each_line_of_a_chart_has_a_dash_pattern_of_its_own_and_the_legend_shows_it() -> None:
    lines = [Line(name=f"group-{n}", points="0,10 10,20", last=n, coords=((0, 10), (10, 20))) for n in range(7)]
    html = environment("zh-CN").get_template("ops/chart.html").render(
        c=Chart(width=720, height=200, top=10, lines=lines, hours=[]), title="lag", first_sample_after_s=15, sample_every_s=60)
    drawn = re.findall(r'<polyline [^>]*stroke-dasharray="([^"]+)"', html)
    legend = re.findall(r'<svg class="key"[^>]*><line [^>]*stroke-dasharray="([^"]+)"', html)
    assert len(drawn) == 7 and legend == drawn
    assert len(set(drawn[:6])) == 6  # the first six apart by their pattern as by their colour
