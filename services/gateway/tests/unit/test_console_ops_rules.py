"""How the console judges a service's health answers, and how dead letters are read, filtered and
prepared for replay."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.adapters.dead_letter_topic import DeadLetterTopic, _letter
from gateway.adapters.revocations import RevokedTills
from gateway.api.console.render import environment
from gateway.config import Settings
from gateway.domain.dead_letters import REPLAY_HEADER, DeadLetter, Filter, Mark, check_reason, parse_filter, parse_id
from gateway.domain.event_flow import PartitionLag, chart, first_sample_after_s, group_totals
from gateway.domain.platform_health import Unanswered, judge, merged, uptime_parts
from gateway.jobs import scheduled_jobs
from shared.errors import Invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAILED_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def letter(**headers: str) -> DeadLetter:
    base = {"ce_type": "crm.members.member_registered.v1", "ce_id": "e-1", "dlq_error": "OperationalError: database is locked",
            "dlq_original_topic": "p.crm.members.events", "dlq_consumer_group": "p.points", "dlq_failed_at": FAILED_AT.isoformat()}
    return DeadLetter(partition=1, offset=42, key="m-1", headers=tuple({**base, **headers}.items()), value=b'{"a":1}', written_at=None)


def test_a_ready_service_is_healthy_and_each_check_is_reported() -> None:
    live = {"status": "live", "version": "0.1.0", "started_at": "2026-12-01T00:00:00+00:00", "uptime_s": 3700}
    ready = {"status": "ready", "checks": {"database": "ok", "broker": "ok"}, "consumer": "assigned", "outbox_pending": 1200,
             "consumer_lag": {"p.crm.members.events": 3}}
    health = judge("points", live, ready)
    assert health.healthy and health.version == "0.1.0" and health.consumer_lag == {"p.crm.members.events": 3}
    assert health.outbox_warning and uptime_parts(health.uptime_s) == (0, 1, 1, 40)


def test_a_service_without_its_broker_is_live_but_not_ready_and_one_not_answering_is_down() -> None:
    broken = judge("members", {"status": "live"}, {"status": "not ready", "checks": {"database": "ok", "broker": "failed: KafkaConnectionError"}})
    assert broken.live and not broken.ready and not broken.healthy and broken.broker.startswith("failed")
    refused = Unanswered("connect", ("/health/live",), "ConnectError")
    down = judge("feedback", None, None, merged([refused, None, Unanswered("connect", ("/health/ready",), "ConnectError")]))
    # Both addresses refused alike: said once, naming both.
    assert not down.live and not down.healthy
    assert down.problems == (Unanswered("connect", ("/health/live", "/health/ready"), "ConnectError"),)
    late = Unanswered("timeout", ("/health/ready",), seconds=3.0)
    assert merged([refused, late]) == (refused, late)


def test_a_dead_letter_names_its_error_class_origin_and_failure_time() -> None:
    d = letter()
    assert (d.id, d.error_class, d.event_type, d.original_topic, d.failed_at) == (
        "1-42", "OperationalError", "crm.members.member_registered.v1", "p.crm.members.events", FAILED_AT)
    assert parse_id("1-42") == (1, 42)
    with pytest.raises(Invalid, match=r"^id:"):
        parse_id("1-42; drop")


def test_a_dead_letter_another_producer_wrote_oddly_is_still_listed() -> None:
    # Any producer may write the topic: a header without a value, a timestamp in microseconds.
    record = SimpleNamespace(partition=0, offset=7, key=None, value=b"{}", timestamp=1_764_000_000_000_000,
                             headers=[("ce_type", b"crm.pos.purchase_made.v1"), ("trace", None)])
    letter = _letter(record)  # type: ignore[arg-type]
    assert letter.headers == (("ce_type", "crm.pos.purchase_made.v1"),) and letter.written_at is None


def test_a_replayed_record_carries_the_original_headers_without_the_dead_letter_ones_and_its_mark() -> None:
    headers = letter(crm_replay_of="0-1").replay_headers()
    assert dict(headers) == {"ce_type": b"crm.members.member_registered.v1", "ce_id": b"e-1", REPLAY_HEADER: b"1-42"}


def test_a_replay_is_stamped_with_the_events_time_else_the_dead_letter_records() -> None:
    # Consumers judge a till's credential at the record's timestamp: stamped with the time of the
    # replay, hours later, a sale would be refused again for its till's expired token.
    sold_at, written_at = datetime(2026, 12, 1, 1, 15, tzinfo=UTC), FAILED_AT
    assert dataclasses.replace(letter(ce_time=sold_at.isoformat()), written_at=written_at).event_time == sold_at
    for no_time in ({}, {"ce_time": "yesterday"}, {"ce_time": "2026-12-01T01:15:00"}, {"ce_time": "0001-01-01T00:00:00+00:00"}):
        assert dataclasses.replace(letter(**no_time), written_at=written_at).event_time == written_at, no_time
    assert letter().event_time is None  # a record without a timestamp: the broker stamps the replay


class Producer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> Any:
        self.sent.append({"topic": topic, **kwargs})
        return SimpleNamespace(partition=0, offset=9)


async def test_a_replay_is_sent_with_the_events_time_as_its_timestamp() -> None:
    sold_at = datetime(2026, 12, 1, 1, 15, tzinfo=UTC)
    topic, producer = DeadLetterTopic(Settings()), Producer()
    topic._producer = producer  # type: ignore[assignment]
    structured = dataclasses.replace(letter(), written_at=sold_at)  # its time in the value, not in a header
    assert await topic.republish(letter(ce_time=sold_at.isoformat())) == (0, 9)
    await topic.republish(structured)
    await topic.republish(letter())
    sold_ms = int(sold_at.timestamp() * 1000)
    assert [(s["topic"], s["key"], s["timestamp_ms"]) for s in producer.sent] == [
        ("p.crm.members.events", b"m-1", sold_ms), ("p.crm.members.events", b"m-1", sold_ms), ("p.crm.members.events", b"m-1", None)]


def test_filters_match_parts_of_texts_case_blind_times_and_the_state() -> None:
    d = letter()
    assert Filter(error_class="operational", topic="members", key="M-1").matches(d, None)
    assert not Filter(event_type="points").matches(d, None)
    assert not Filter().matches(d, Mark.REPLAYED)  # open by default
    assert Filter(state="replayed").matches(d, Mark.REPLAYED) and not Filter(state="discarded").matches(d, Mark.REPLAYED)
    assert Filter(state="").matches(d, Mark.DISCARDED)
    assert Filter(since=FAILED_AT, until=FAILED_AT + timedelta(seconds=1)).matches(d, None)
    assert not Filter(until=FAILED_AT).matches(d, None)


def test_a_filter_bounded_to_the_letters_of_a_dry_run_matches_none_written_after_them() -> None:
    counted = [letter(), dataclasses.replace(letter(), partition=0, offset=7)]
    bounded = Filter(error_class="operational").bounded_to(counted)
    assert bounded.through == ((0, 7), (1, 42))
    assert all(bounded.matches(d, None) for d in counted)
    later = (dataclasses.replace(counted[0], offset=43), dataclasses.replace(counted[1], offset=8),
             dataclasses.replace(counted[0], partition=2, offset=0))  # a partition it had none on
    assert not any(bounded.matches(d, None) for d in later)
    assert Filter(error_class="operational").matches(later[2], None)  # unbounded, as browsing is


def test_filter_times_without_a_zone_are_the_chain_s_local_time_and_bad_fields_are_named() -> None:
    wanted = parse_filter({"since": "2026-12-01T10:00", "state": "open"}, SHANGHAI)
    assert wanted.since == FAILED_AT  # 10:00 in Shanghai is 02:00 UTC
    for params, field in (({"since": "yesterday"}, "since"), ({"state": "gone"}, "state"), ({"key": "k" * 201}, "key")):
        with pytest.raises(Invalid) as refused:
            parse_filter(params, SHANGHAI)
        assert refused.value.field == field
    with pytest.raises(Invalid, match=r"^until: the clocks of America/New_York skipped"):
        parse_filter({"until": "2026-03-08T02:30"}, ZoneInfo("America/New_York"))
    with pytest.raises(Invalid, match=r"^reason:"):
        check_reason("   ")


def test_a_filter_time_outside_the_calendar_is_refused_naming_its_field() -> None:
    # A year typed as 0001 was an OverflowError where it was compared or shown: a 500, not a 422.
    for params, field in (({"since": "0001-01-01T00:00"}, "since"), ({"until": "0001-01-01T00:00+08:00"}, "until")):
        with pytest.raises(Invalid) as refused:
            parse_filter(params, SHANGHAI)
        assert refused.value.field == field and "outside the years 1 to 9999" in str(refused.value)


def test_lag_sums_a_group_s_partitions_and_waits_as_long_as_its_oldest_record() -> None:
    now = FAILED_AT
    lags = [PartitionLag("p.points", "p.crm.members.events", 0, 2, 3, False, now - timedelta(seconds=90)),
            PartitionLag("p.points", "p.crm.members.events", 1, None, 0, False, None),
            PartitionLag("p.points", "p.crm.pos.purchases", 0, 10, 5000, True, now - timedelta(seconds=30))]
    assert group_totals(lags, now) == {"p.points": (5003, 90)}
    assert lags[1].seconds(now) == 0  # nothing behind: no wait, whatever the last record's age


def test_the_chart_spans_24_hours_scaled_to_the_largest_value_with_local_hours() -> None:
    end = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    drawn = chart({"p.points": [(end - timedelta(hours=24), 0.0), (end - timedelta(hours=12), 50.0), (end, 100.0)],
                   "p.members": [(end - timedelta(hours=30), 7.0)]}, end, SHANGHAI, width=240, height=100)
    assert drawn.top == 100.0
    members, points = drawn.lines
    assert (members.name, members.points, members.last) == ("p.members", "", 0.0)  # older than 24 hours
    assert points.points == "0.0,100.0 120.0,50.0 240.0,0.0" and points.last == 100.0
    assert [label for _, label in drawn.hours] == ["13", "16", "19", "22", "01", "04", "07", "10"]
    assert chart({}, end, SHANGHAI).top == 1.0


def test_a_lone_sample_is_a_dot_and_the_chart_counts_its_samples() -> None:
    end = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    drawn = chart({"p.points": [(end - timedelta(seconds=15), 4.0)], "p.members": []}, end, SHANGHAI, width=240, height=100)
    members, points = drawn.lines
    assert drawn.samples == 1 and members.coords == () and points.coords == ((240.0, 0.0),)
    assert chart({"p.points": [(end - timedelta(hours=1), 1.0), (end, 2.0)]}, end, SHANGHAI).samples == 2
    assert chart({}, end, SHANGHAI).samples == 0


def test_only_the_event_flow_sample_runs_soon_after_start() -> None:
    """A restarting replica waits an interval before its jobs (no stampede on the database); the
    cheap sampling runs after 15 s so the console's charts fill at once."""
    jobs = {j.name: j for j in scheduled_jobs(Settings(), RevokedTills())}
    assert jobs["event-flow-sample"].first_after_s == 15
    assert all(j.first_after_s is None for name, j in jobs.items() if name != "event-flow-sample")
    assert first_sample_after_s(5.0) == 5  # never later than the interval itself


def test_a_jobs_summary_reads_in_local_time_with_its_figures_by_name() -> None:
    from zoneinfo import ZoneInfo

    from gateway.api.console.render import environment

    shown = environment("zh-CN").from_string("{{ v|summary }}").render(zone=ZoneInfo("Asia/Shanghai"), v={
        "as_of": "2026-12-06T09:13:06+00:00", "day": "2026-12-06", "sent": 3, "by_channel": {"sms": 2, "inbox": 1},
        "skipped": ["m-1", "m-2"], "note": "<b>x</b>",
    })
    # Chinese punctuation on the Chinese console; a code shown as data (a channel, a message's state)
    # in words, any other key as the job wrote it.
    assert shown == ("as_of：2026-12-06 17:13:06，day：2026-12-06，已发送：3，by_channel：短信：2，应用内消息：1，"
                     "skipped：m-1，m-2，note：&lt;b&gt;x&lt;/b&gt;")


def test_a_backlog_past_the_warning_is_said_in_words_not_only_in_colour() -> None:
    live = {"status": "live", "version": "0.1.0", "started_at": "2026-12-01T00:00:00+00:00", "uptime_s": 3700}
    ready = {"status": "ready", "checks": {"database": "ok", "broker": "ok"}, "consumer": "assigned", "outbox_pending": 1200,
             "consumer_lag": {}}
    calm = {**ready, "outbox_pending": 3}
    page = environment("zh-CN").get_template("ops/health.html").render(
        lang="zh-CN", languages={}, menu=[], path="/console/ops/health", back="/console", user=None, csrf="", zone=SHANGHAI,
        services=[judge("points", live, ready), judge("members", live, calm)], uptime_parts=uptime_parts, all_healthy=True)
    backlog = [re.search(rf'<tr data-service="{name}">.*?</tr>', page, re.S).group(0) for name in ("points", "members")]
    assert "1200 <small>(积压)</small>" in backlog[0] and "积压" not in backlog[1]


def test_an_exclusive_end_is_shown_as_its_last_second() -> None:
    # A coupon valid to the end of 21 December ends at 22 December 00:00 (Shanghai).
    shown = environment("zh-CN").from_string("{{ v|last_moment }}|{{ none|last_moment }}").render(
        zone=ZoneInfo("Asia/Shanghai"), v="2026-12-21T16:00:00+00:00", none=None)
    assert shown == "2026-12-21 23:59:59|"


@pytest.mark.parametrize(("language", "states"), [("en", ["Open", "Replayed", "Discarded", "All states"]),
                                                  ("zh-CN", ["待处理", "已重放", "已丢弃", "全部状态"])])
def test_the_dead_letters_state_filter_words_its_choices_alike(language: str, states: list[str]) -> None:
    # "open / Replayed / Discarded / all" read as two lists run together: each state is worded as the
    # list's state column words it, and the choice of every state as the console's other filters do.
    page = environment(language).get_template("ops/dead_letters.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/dead-letters", back="/console", user=None, csrf="",
        zone=SHANGHAI, wanted=Filter(), total=0, older_left=False, listed=[])
    select = re.search(r'<select id="f-state" name="state">(.*?)</select>', page, re.S)
    assert select, "the page has no state filter"
    assert re.findall(r"<option value=\"[a-z]*\"(?: selected)?>(.*?)</option>", select.group(1)) == states


@pytest.mark.parametrize(("language", "letters", "records", "said"), [
    ("en", 1, 1, "A replay would send 1 record back to its original topic. It closes 1 dead letter."),
    ("en", 3, 2, "A replay would send 2 records back to their original topics. It closes 3 dead letters."),
    ("zh-CN", 1, 1, "重放将把 1 条记录发回其原主题。 并关闭 1 条死信（标记为已重放）。"),
    ("zh-CN", 3, 2, "重放将把 2 条记录发回其原主题。 并关闭 3 条死信（标记为已重放）。"),
])
def test_a_dry_run_counts_its_records_and_letters_in_the_singular_and_the_plural(
    language: str, letters: int, records: int, said: str,
) -> None:
    # "A replay would send 1 dead letters": the count was worded in the plural whatever it was.
    todo = [dataclasses.replace(letter(), offset=42 + n) for n in range(letters)]
    page = environment(language).get_template("ops/dead_letter_dry_run.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/dead-letters/dry-run", back="/console", user=None, csrf="",
        zone=SHANGHAI, todo=todo, records=records, siblings=0, wanted=Filter(), selection=[])
    shown = re.search(r'<p id="dry-run-count">(.*?)</p>', page, re.S)
    assert shown and " ".join(shown.group(1).split()) == said
    assert f'name="expected" value="{letters}"' in page
