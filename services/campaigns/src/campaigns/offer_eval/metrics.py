"""Ranking metrics at k for one member's list against what they bought in the horizon, summed over
members and split into repeat items (bought before the split) and new ones."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def _dcg(hits: Sequence[bool]) -> float:
    return sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)


@dataclass
class Tally:
    """Means over the members who bought anything in the horizon (recall and NDCG), and over those
    who bought a repeat (or new) item for the split recalls."""

    k: int
    members: int = 0
    recall: float = 0.0
    precision: float = 0.0
    ndcg: float = 0.0
    split: dict[str, list[float]] = field(default_factory=lambda: {"repeat": [0.0, 0.0, 0.0], "new": [0.0, 0.0, 0.0]})

    def add(self, ranked: Sequence[str], bought: set[str], before: set[str]) -> None:
        if not bought:
            return
        top = list(ranked[: self.k])
        hits = [item in bought for item in top]
        self.members += 1
        self.recall += sum(hits) / len(bought)
        self.precision += sum(hits) / self.k
        self.ndcg += _dcg(hits) / _dcg([True] * min(len(bought), self.k))
        for part, wanted in (("repeat", bought & before), ("new", bought - before)):
            if wanted:
                found = sum(1 for item in top if item in wanted)
                tally = self.split[part]
                tally[0] += 1
                tally[1] += found / len(wanted)
                tally[2] += found / self.k

    def figures(self) -> dict[str, float]:
        n = max(self.members, 1)
        out = {f"recall@{self.k}": self.recall / n, f"precision@{self.k}": self.precision / n, f"ndcg@{self.k}": self.ndcg / n}
        for part, (members, recall, precision) in self.split.items():
            out[f"{part}_recall@{self.k}"] = recall / members if members else 0.0
            out[f"{part}_precision@{self.k}"] = precision / max(self.members, 1)
        return out
