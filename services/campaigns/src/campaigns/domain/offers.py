"""What each member is about to buy: the prediction behind the fortnightly personal offer lists.

Pure: the service layer (and the evaluation, `campaigns.offer_eval`) hands in each member's history
as the days they bought each item, and gets back items ranked by how likely they are to be bought
in the next `horizon` days. An item is any key (`sku:<sku>`, `category:<name>`): SKUs and
categories are predicted alike, and a promotion on either is matched to its own score.

- **Repeat items** (bought before): *when* from the member's own interval between purchases of the
  item (the median of their last gaps, spread from their variation), as the chance that the next
  purchase falls in the horizon given that none came since the last one (a log-normal gap); a
  single purchase borrows the item's typical interval among all members. *Whether at all*: the
  member is still active (days since their last visit against their own visit rhythm). *How
  much*: more purchases make a steadier habit, and a recency-weighted frequency breaks ties.
- **New items** (never bought by the member): what members like them buy: the item's rate of
  first purchases in a horizon among those who had not bought it, lifted by how much more often
  buyers of the member's own items buy it (co-occurrence), capped so a guess never outranks a
  strong habit.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

HORIZON_DAYS = 14
DEFAULT_GAP = 30.0  # an item nobody bought twice: a monthly guess
MIN_SPREAD, MAX_SPREAD = 0.15, 1.0  # the log-normal's sigma: habits are never perfectly regular
RECENT_GAPS = 6  # a habit is what the member does now: the last gaps count, not those of a year ago
RECENCY_DAYS = 60.0  # the decay of the recency-weighted frequency
NEW_ITEM_CAP = 0.35  # a new item's score never reaches a due staple's
MAX_LIFT = 6.0
NEIGHBOURS = 25  # the new items each item suggests (its buyers' most lifted other items)

History = Mapping[str, Sequence[int]]  # item -> the distinct days (date ordinals) it was bought, ascending


@dataclass(frozen=True, slots=True)
class Scored:
    item: str
    score: float
    repeat: bool


@dataclass
class Population:
    """What all members' histories say about each item, learnt once per build (from a sample of
    members when there are many): its typical gap, its rate of first purchases, and which items
    are bought by the same members."""

    as_of: int
    horizon: int = HORIZON_DAYS
    members: int = 0
    buyers: Counter[str] = field(default_factory=Counter)
    gaps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    first_in_window: Counter[str] = field(default_factory=Counter)
    together: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    recent: Counter[str] = field(default_factory=Counter)

    def learn(self, history: History) -> None:
        """Adds one member's history (days before `as_of` only)."""
        self.members += 1
        window_start = self.as_of - self.horizon
        items = [i for i, days in history.items() if days]
        for item in items:
            days = history[item]
            self.buyers[item] += 1
            if days[0] >= window_start:
                self.first_in_window[item] += 1
            if days[-1] >= self.as_of - 2 * self.horizon:
                self.recent[item] += 1
            if len(days) >= 2:
                self.gaps[item].append(median(_gaps(days)[-RECENT_GAPS:]))
        # Pairs of one kind only (a SKU with SKUs, a category with categories): that is what a
        # new item of each kind is judged by, at half the cost.
        kinds: dict[str, list[str]] = defaultdict(list)
        for item in items:
            kinds[item.partition(":")[0]].append(item)
        for same in kinds.values():
            for item in same:
                bucket = self.together[item]
                for other in same:
                    if other != item:
                        bucket[other] += 1

    def finish(self) -> "Model":
        typical = {item: median(g) for item, g in self.gaps.items() if g}
        rates: dict[str, float] = {}
        for item, n in self.buyers.items():
            # Those who had not bought it before the last horizon, and how many then did.
            not_yet = self.members - (n - self.first_in_window[item])
            rates[item] = (self.first_in_window[item] + 0.5) / (not_yet + 10.0) if not_yet > 0 else 0.0
        members = max(self.members, 1)
        neighbours: dict[str, list[tuple[str, float]]] = {}
        for item, others in self.together.items():
            buyers = self.buyers[item]
            # P(other | item) / P(other): how much more often this item's buyers buy the other.
            lifts = [(other, min(MAX_LIFT, (both / buyers) / (self.buyers[other] / members))) for other, both in others.items()]
            # Kept: those most likely started on (the lift times the other's rate of first purchases).
            lifts.sort(key=lambda pair: (-pair[1] * rates.get(pair[0], 0.0), pair[0]))
            neighbours[item] = lifts[:NEIGHBOURS]
        return Model(self.as_of, self.horizon, members, dict(self.buyers), typical, rates, neighbours, dict(self.recent))


@dataclass(frozen=True)
class Model:
    as_of: int
    horizon: int
    members: int
    buyers: dict[str, int]
    typical_gap: dict[str, float]
    new_rate: dict[str, float]
    neighbours: dict[str, list[tuple[str, float]]]
    recent: dict[str, int]
    _popular: dict[str, list[str]] = field(default_factory=dict, compare=False)

    def popular(self, k: int, prefix: str = "") -> list[str]:
        """The items most members bought in the last two horizons (the popularity baseline)."""
        if prefix not in self._popular:
            self._popular[prefix] = sorted((i for i in self.recent if i.startswith(prefix)), key=lambda i: (-self.recent[i], i))
        return self._popular[prefix][:k]


def learn(histories: Iterable[History], as_of: int, horizon: int = HORIZON_DAYS) -> Model:
    population = Population(as_of=as_of, horizon=horizon)
    for history in histories:
        population.learn(history)
    return population.finish()


def _gaps(days: Sequence[int]) -> list[float]:
    return [float(b - a) for a, b in pairwise(days)]


def _lognormal_cdf(x: float, median_: float, sigma: float) -> float:
    if x <= 0:
        return 0.0
    return 0.5 * (1.0 + math.erf(math.log(x / median_) / (sigma * math.sqrt(2.0))))


def due(days_since: float, gap: float, spread: float, horizon: int) -> float:
    """The chance that the next purchase falls within the next `horizon` days, given that none
    came in the `days_since` days since the last one, for gaps log-normal around `gap`."""
    before = _lognormal_cdf(days_since, gap, spread)
    after = _lognormal_cdf(days_since + horizon, gap, spread)
    left = 1.0 - before
    if left < 1e-9:
        return 0.0  # so far past the habit that the habit no longer explains it
    return (after - before) / left


def spread_of(gaps: Sequence[float]) -> float:
    """Sigma of the log-normal from the member's own gaps: their variation, within bounds."""
    if len(gaps) < 3:
        return 0.5
    logs = [math.log(max(g, 1.0)) for g in gaps]
    mean = sum(logs) / len(logs)
    sigma = math.sqrt(sum((v - mean) ** 2 for v in logs) / (len(logs) - 1))
    return min(MAX_SPREAD, max(MIN_SPREAD, sigma))


def active(visits: Sequence[int], as_of: int, horizon: int) -> float:
    """Whether the member still shops here: days since their last visit against their own rhythm
    (the median gap between visits). A member three rhythms late is drifting away; far beyond, gone."""
    if not visits:
        return 0.0
    since = as_of - visits[-1]
    rhythm = median(_gaps(visits)[-RECENT_GAPS * 2:]) if len(visits) >= 2 else DEFAULT_GAP
    late = since / max(rhythm, 1.0)
    return 1.0 / (1.0 + (late / 4.0) ** 4) if since > horizon or late > 1 else 1.0


# exp(-age / RECENCY_DAYS) by age in days, looked up rather than computed: a round of lists weighs
# millions of purchase days. Ages beyond the table (over ten years) are computed.
_DECAY = [math.exp(-age / RECENCY_DAYS) for age in range(3660)]


def recency_weighted(days: Sequence[int], as_of: int) -> float:
    top = len(_DECAY)
    return sum(_DECAY[age] if 0 <= (age := as_of - d) < top else math.exp(-age / RECENCY_DAYS) for d in days)


def rate(days: Sequence[int], as_of: int, since: int) -> float:
    """Purchases per day, recency-weighted: each purchase weighs exp(-age / RECENCY_DAYS), over the
    same weighting of the days the member could have bought it (from `since`, their first visit)."""
    span = max(as_of - since, 7)
    exposure = RECENCY_DAYS * (1.0 - math.exp(-span / RECENCY_DAYS))
    return recency_weighted(days, as_of) / exposure


def repeat_score(days: Sequence[int], as_of: int, model: Model, item: str, since: int) -> float:
    """Timing where the member's habit is regular, frequency where it is not: the due chance of
    the log-normal gap and the chance of a purchase at the member's recency-weighted rate (as if
    at random times), mixed by how regular the member's gaps of this item are."""
    gaps = _gaps(days)[-RECENT_GAPS:]
    if gaps:
        gap, spread = median(gaps), spread_of(gaps)
    else:
        gap, spread = model.typical_gap.get(item, DEFAULT_GAP), 0.7
    timed = due(as_of - days[-1], max(gap, 1.0), spread, model.horizon)
    at_random = 1.0 - math.exp(-rate(days, as_of, since) * model.horizon)
    regular = (MAX_SPREAD - spread) / (MAX_SPREAD - MIN_SPREAD) if len(gaps) >= 2 else 0.3
    steadiness = len(days) / (len(days) + 1.0)
    return steadiness * (regular * timed + (1.0 - regular) * at_random)


def new_scores(history: History, model: Model, prefix: str, only: Set[str] | None = None) -> dict[str, float]:
    """Items the member never bought: the item's rate of first purchases, times how much more often
    buyers of the member's items buy it (1 where they do not differ), each of the member's items
    weighing by its recency-weighted frequency. Candidates: those items' neighbours and the most
    popular items."""
    own = [i for i in history if i.startswith(prefix)]
    weight = {i: recency_weighted(history[i], model.as_of) + 0.1 for i in own}
    total = sum(weight.values()) or 1.0
    lift: dict[str, float] = defaultdict(float)
    for item in own:
        share = weight[item] / total
        for other, times in model.neighbours.get(item, ()):
            if only is None or other in only:  # the others are no candidates: no need to weigh them
                lift[other] += share * (times - 1.0)
    candidates = (lift.keys() | set(model.popular(NEIGHBOURS, prefix))) - history.keys()
    if only is not None:
        candidates &= only
    return {i: min(NEW_ITEM_CAP, model.new_rate.get(i, 0.0) * max(0.0, 1.0 + lift[i])) for i in candidates}


def predict(history: History, visits: Sequence[int], model: Model, k: int, prefix: str = "",
            only: Set[str] | None = None) -> list[Scored]:
    """The member's `k` items (keys starting with `prefix`, and among `only` when given: the items
    on promotion) most likely bought in the horizon after `model.as_of`, best first. `visits`: the
    distinct days the member shopped at all. Each item's score is its own, so `only` changes which
    items are scored, never their order."""
    alive = active(visits, model.as_of, model.horizon)
    since = visits[0] if visits else model.as_of
    scored = [Scored(item, alive * repeat_score(days, model.as_of, model, item, since), True)
              for item, days in history.items() if days and item.startswith(prefix) and (only is None or item in only)]
    scored += [Scored(item, alive * s, False) for item, s in new_scores(history, model, prefix, only).items()]
    scored.sort(key=lambda s: (-s.score, s.item))
    return scored[:k]


# --- the two baselines the list is judged against


def most_popular(model: Model, k: int, prefix: str = "") -> list[str]:
    return model.popular(k, prefix)


def most_frequent(history: History, model: Model, k: int, prefix: str = "") -> list[str]:
    """The member's own most frequent items (the most recent first among equals), filled with the
    most popular ones they never bought."""
    own = sorted((i for i in history if i.startswith(prefix) and history[i]),
                 key=lambda i: (-len(history[i]), -history[i][-1], i))[:k]
    return own + [i for i in model.popular(k + len(own), prefix) if i not in history][:k - len(own)]
