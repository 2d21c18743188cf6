"""Splits purchases at a day, predicts the horizon after it for every member, and scores the list
and the two baselines against what each member then bought."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.domain import offers
from campaigns.offer_eval.metrics import Tally

METHODS = ("offer list", "most popular", "own most frequent")
# (member id, day ordinal, sku, category)
Purchase = tuple[str, int, str, str]


@dataclass
class Member:
    history: dict[str, list[int]]
    visits: list[int]
    bought: set[str]


def split(purchases: Iterable[Purchase], at: int, horizon: int, level: str) -> dict[str, Member]:
    """Per member: the history before `at` (SKUs and categories, as the lists use them), the visit
    days, and the items of `level` bought in [at, at + horizon)."""
    history: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    bought: dict[str, set[str]] = defaultdict(set)
    for member_id, day, sku, category in purchases:
        keys = [f"sku:{sku}"] + ([f"category:{category}"] if category else [])
        if day < at:
            for key in keys:
                history[member_id][key].add(day)
            history[member_id]["visit:"].add(day)
        elif day < at + horizon:
            bought[member_id].update(k for k in keys if k.startswith(level))
    members = {}
    for member_id in history.keys() | bought.keys():
        items = history.get(member_id, {})
        visits = sorted(items.pop("visit:", set()))
        members[member_id] = Member({k: sorted(v) for k, v in items.items()}, visits, bought.get(member_id, set()))
    return members


def evaluate(members: dict[str, Member], at: int, horizon: int = offers.HORIZON_DAYS, k: int = 10,
             level: str = "sku:") -> dict[str, dict[str, float]]:
    model = offers.learn((m.history for m in members.values()), at, horizon)
    tallies = {method: Tally(k) for method in METHODS}
    popular = offers.most_popular(model, k, level)
    for m in members.values():
        if not m.bought:
            continue
        before = {i for i in m.history if i.startswith(level)}
        tallies["offer list"].add([s.item for s in offers.predict(m.history, m.visits, model, k, level)], m.bought, before)
        tallies["most popular"].add(popular, m.bought, before)
        tallies["own most frequent"].add(offers.most_frequent(m.history, model, k, level), m.bought, before)
    return {method: t.figures() | {"members": float(t.members)} for method, t in tallies.items()}


def report(figures: dict[str, dict[str, float]], k: int = 10) -> str:
    columns = [f"recall@{k}", f"precision@{k}", f"ndcg@{k}", f"repeat_recall@{k}", f"new_recall@{k}",
               f"repeat_precision@{k}", f"new_precision@{k}"]
    members = int(figures[METHODS[0]]["members"])
    lines = [f"{members} members bought something in the horizon", f"{'':20}" + "".join(f"{c:>20}" for c in columns)]
    for method, values in figures.items():
        lines.append(f"{method:20}" + "".join(f"{values[c]:>20.4f}" for c in columns))
    return "\n".join(lines)
