"""The prediction behind the personal offer lists (domain/offers.py): when a member is due for an
item, whether they still shop, what similar members start buying, and the evaluation against the
two baselines on generated members."""

import pytest

from campaigns.domain import offers
from campaigns.offer_eval import generator
from campaigns.offer_eval.evaluate import evaluate, split
from campaigns.offer_eval.metrics import Tally

pytestmark = pytest.mark.unit

AS_OF = 1000


def every(gap: int, last: int, n: int) -> list[int]:
    return [last - gap * i for i in reversed(range(n))]


def test_an_item_is_due_when_its_interval_comes_round_within_the_horizon() -> None:
    # Weekly milk, last bought 6 days ago: due. Monthly oil bought 3 days ago: not yet.
    assert offers.due(6, 7, 0.2, 14) > 0.95
    assert offers.due(3, 30, 0.15, 14) < 0.01
    # Monthly oil bought 25 days ago: most likely within the fortnight.
    assert offers.due(25, 30, 0.15, 14) > 0.9


def test_the_spread_of_gaps_is_the_members_own_within_bounds() -> None:
    assert offers.spread_of([7, 7, 7, 7]) == offers.MIN_SPREAD
    assert offers.spread_of([1, 60, 2, 90]) == offers.MAX_SPREAD
    assert offers.spread_of([7, 8]) == 0.5  # too few gaps to judge


def test_a_member_who_stopped_coming_is_no_longer_active() -> None:
    weekly = every(7, AS_OF - 3, 20)
    assert offers.active(weekly, AS_OF, 14) == 1.0
    assert offers.active(every(7, AS_OF - 120, 20), AS_OF, 14) < 0.01
    assert offers.active([], AS_OF, 14) == 0.0


def test_timing_puts_the_item_that_is_due_before_one_bought_more_often_but_just_now() -> None:
    history = {
        "sku:oil": every(30, AS_OF - 28, 6),  # monthly, due in two days
        "sku:rice": every(20, AS_OF - 1, 9),  # bought yesterday, every 20 days
    }
    visits = sorted(set(history["sku:oil"]) | set(history["sku:rice"]))
    model = offers.learn([history], AS_OF)
    ranked = [s.item for s in offers.predict(history, visits, model, 2, "sku:")]
    assert ranked == ["sku:oil", "sku:rice"]
    # The baseline of the member's own most frequent items has them the other way round.
    assert offers.most_frequent(history, model, 2, "sku:") == ["sku:rice", "sku:oil"]


def test_items_out_of_season_fall_behind_what_the_member_buys_now() -> None:
    history = {"sku:zongzi": every(9, AS_OF - 130, 5), "sku:milk": every(8, AS_OF - 5, 4)}
    visits = sorted(set(history["sku:zongzi"]) | set(history["sku:milk"]))
    scored = offers.predict(history, visits, offers.learn([history], AS_OF), 2, "sku:")
    assert [s.item for s in scored] == ["sku:milk", "sku:zongzi"]
    assert scored[1].score < 0.05 < 0.5 < scored[0].score


def test_new_items_come_from_what_buyers_of_the_members_items_start_buying() -> None:
    # Many buyers of nappies took up baby wipes in the last fortnight; buyers of beer did not.
    others = [{"sku:nappies": [AS_OF - 30, AS_OF - 16], "sku:wipes": [AS_OF - 10]} for _ in range(30)]
    others += [{"sku:beer": [AS_OF - 40, AS_OF - 20]} for _ in range(30)]
    model = offers.learn(others, AS_OF)
    parent = {"sku:nappies": [AS_OF - 20, AS_OF - 6]}
    scored = {s.item: s for s in offers.predict(parent, [AS_OF - 20, AS_OF - 6], model, 5, "sku:")}
    assert scored["sku:wipes"].repeat is False and scored["sku:wipes"].score > 0.05
    # Beer is only as likely as anyone's first beer (nothing ties it to nappies).
    assert scored["sku:beer"].score < scored["sku:wipes"].score / 10
    assert scored["sku:wipes"].score <= offers.NEW_ITEM_CAP


def test_the_frequency_baseline_is_filled_with_popular_items_the_member_never_bought() -> None:
    others = [{"sku:a": [AS_OF - 3]}, {"sku:a": [AS_OF - 2], "sku:b": [AS_OF - 1]}, {"sku:c": [AS_OF - 1]}]
    model = offers.learn(others, AS_OF)
    assert offers.most_popular(model, 2, "sku:") == ["sku:a", "sku:b"]
    assert offers.most_frequent({"sku:b": [AS_OF - 9, AS_OF - 2]}, model, 3, "sku:") == ["sku:b", "sku:a", "sku:c"]


def test_metrics_at_k_count_hits_and_split_them_into_repeat_and_new_items() -> None:
    tally = Tally(k=2)
    tally.add(["x", "y"], bought={"x", "z"}, before={"x"})  # one of two found, at rank 1
    tally.add(["q", "r"], bought=set(), before=set())  # bought nothing: not counted
    figures = tally.figures()
    assert tally.members == 1
    assert figures["recall@2"] == 0.5 and figures["precision@2"] == 0.5
    assert figures["ndcg@2"] == pytest.approx(1 / (1 + 1 / 1.5849625), rel=1e-6)
    assert figures["repeat_recall@2"] == 1.0 and figures["new_recall@2"] == 0.0


def test_the_generator_is_deterministic_for_a_seed() -> None:
    first = [(s.member_id, sorted((d, p.sku) for d, p, _ in s.purchases)) for s in generator.shoppers(20, seed=7)]
    again = [(s.member_id, sorted((d, p.sku) for d, p, _ in s.purchases)) for s in generator.shoppers(20, seed=7)]
    other = [(s.member_id, sorted((d, p.sku) for d, p, _ in s.purchases)) for s in generator.shoppers(20, seed=8)]
    assert first == again and first != other


def test_on_generated_members_the_list_beats_both_baselines_by_clear_margins() -> None:
    rows = [(s.member_id, d, p.sku, p.category) for s in generator.shoppers(1500, seed=11) for d, p, _ in s.purchases]
    at = generator.HISTORY_DAYS
    figures = evaluate(split(rows, at, 14, "sku:"), at, 14, 10, "sku:")
    ours, popular, frequent = figures["offer list"], figures["most popular"], figures["own most frequent"]
    assert ours["members"] > 1200
    # Measured at about +0.025 over the members' own most frequent items and +0.57 over the most
    # popular ones on several seeds; half that cannot come from noise over 1,300 members.
    for metric in ("recall@10", "precision@10", "ndcg@10", "repeat_recall@10"):
        assert ours[metric] >= frequent[metric] + 0.012, (metric, ours, frequent)
        assert ours[metric] >= popular[metric] + 0.3, (metric, ours, popular)
