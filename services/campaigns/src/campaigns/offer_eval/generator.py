"""A shop's worth of members with realistic repeat behaviour, to judge the offer lists on.

Deterministic for a seed. Each member has a household type that decides which categories they buy
from; staples (4-8 SKUs) come back every 7-10 days with a day or two of noise and the odd skipped
week; household goods on the household's own cycle of 2-6 weeks (a bag of rice a month, give or
take a few days); impulse items every 3-8 weeks at irregular times; seasonal items only in their season
(one season is starting as the history ends); now and then something new; some
members join late and some lapse for good.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

HISTORY_DAYS = 182  # days 0..181 are history; the horizon follows
CATEGORIES = {
    # category: (SKUs, unit price, staple?)
    "dairy": (14, "12.50", True), "bread": (10, "8.90", True), "eggs": (6, "15.80", True),
    "vegetables": (24, "6.50", True), "fruit": (20, "18.00", True), "fresh_meat": (12, "32.00", True),
    "grain": (8, "39.90", False), "oil": (8, "69.00", False), "noodles": (12, "9.90", False),
    "condiments": (20, "11.50", False), "tissue": (8, "29.90", False), "detergent": (10, "45.90", False),
    "drinks": (18, "5.50", True), "snacks": (24, "12.00", False), "frozen": (16, "22.00", False),
    "baby": (12, "89.00", True), "pet": (10, "59.00", False), "tobacco": (4, "45.00", True),
    "liquor": (10, "128.00", False), "personal_care": (16, "35.00", False),
}
# Goods used up at home come back on the household's own cycle (a bag of rice a month); the rest of
# what is not a staple is bought on impulse, at irregular times.
REPLENISHED = {"grain", "oil", "condiments", "tissue", "detergent", "baby", "pet", "personal_care", "noodles"}
# Seasonal categories: (first day, last day) within history + horizon.
SEASONS = {"zongzi": (20, 48), "ice_cream": (75, 130), "mooncake": (170, 205)}
SEASON_SKUS, SEASON_PRICE = 6, "38.00"
HOUSEHOLDS = {
    # household type: (weight, category weights)
    "family": (3, {"dairy": 5, "bread": 3, "eggs": 3, "vegetables": 4, "fruit": 5, "fresh_meat": 3, "grain": 2,
                   "oil": 2, "snacks": 4, "frozen": 2, "baby": 3, "tissue": 2, "detergent": 2, "condiments": 2}),
    "elderly": (2, {"vegetables": 6, "eggs": 4, "grain": 3, "oil": 3, "fresh_meat": 3, "condiments": 3,
                    "noodles": 2, "fruit": 2, "tissue": 1, "tobacco": 1}),
    "single": (2, {"drinks": 6, "noodles": 5, "snacks": 5, "frozen": 4, "bread": 3, "dairy": 2, "liquor": 1,
                   "personal_care": 2, "tobacco": 2}),
    "couple": (2, {"vegetables": 3, "fruit": 4, "dairy": 3, "bread": 2, "fresh_meat": 2, "drinks": 2, "liquor": 2,
                   "personal_care": 3, "detergent": 1, "pet": 2, "snacks": 2}),
}


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    category: str
    price: Decimal


def catalogue() -> dict[str, list[Product]]:
    products: dict[str, list[Product]] = {}
    for n, (category, (count, price, _)) in enumerate(CATEGORIES.items()):
        products[category] = [Product(f"69{n:03d}{i:08d}", category, Decimal(price)) for i in range(count)]
    for n, category in enumerate(SEASONS, start=len(CATEGORIES)):
        products[category] = [Product(f"69{n:03d}{i:08d}", category, Decimal(SEASON_PRICE)) for i in range(SEASON_SKUS)]
    return products


@dataclass(frozen=True, slots=True)
class Shopper:
    member_id: str
    # (day, product, quantity), in no particular order; a day is 0..HISTORY_DAYS + horizon - 1
    purchases: list[tuple[int, Product, int]]


def _pick(rng: random.Random, products: list[Product]) -> Product:
    # A few SKUs of each category sell most (Zipf-like).
    return rng.choices(products, weights=[1.0 / (i + 1) for i in range(len(products))])[0]


def shoppers(n: int, seed: int = 20261201, days: int = HISTORY_DAYS + 14) -> Iterator[Shopper]:
    rng = random.Random(seed)
    products = catalogue()
    kinds = list(HOUSEHOLDS)
    for m in range(n):
        kind = rng.choices(kinds, weights=[HOUSEHOLDS[k][0] for k in kinds])[0]
        taste = HOUSEHOLDS[kind][1]
        cats = list(taste)

        def from_taste(staple: bool | None = None, _cats: list[str] = cats, _taste: dict[str, int] = taste) -> Product:
            pool = [c for c in _cats if staple is None or CATEGORIES[c][2] == staple] or _cats
            category = rng.choices(pool, weights=[_taste[c] for c in pool])[0]
            return _pick(rng, products[category])

        start = 0 if rng.random() < 0.85 else rng.randint(0, HISTORY_DAYS - 30)
        end = days if rng.random() < 0.88 else rng.randint(start + 20, days + 40)
        purchases: list[tuple[int, Product, int]] = []
        habits: dict[str, tuple[Product, float, str]] = {}
        for _ in range(rng.randint(4, 8)):
            p = from_taste(staple=True)
            habits[p.sku] = (p, rng.uniform(7.0, 10.0), "staple")
        for _ in range(rng.randint(4, 12)):
            p = from_taste()
            if p.category in REPLENISHED:
                habits.setdefault(p.sku, (p, rng.uniform(14.0, 42.0), "cycle"))
            else:
                habits.setdefault(p.sku, (p, rng.uniform(20.0, 56.0), "impulse"))
        for product, period, habit in habits.values():
            day = start + rng.uniform(0, period)
            while day < min(end, days):
                if habit != "staple" or rng.random() > 0.1:  # the odd week skipped
                    purchases.append((int(day), product, rng.randint(1, 3)))
                if habit == "staple":  # a day or two either way
                    day += max(3.0, rng.gauss(period, 1.2))
                elif habit == "cycle":  # a few days either way
                    day += max(5.0, rng.gauss(period, 0.12 * period))
                else:
                    day += rng.expovariate(1.0 / period)
        for season, (first, last) in SEASONS.items():
            if rng.random() < 0.45:
                product, day = _pick(rng, products[season]), max(first, start) + rng.uniform(0, 10)
                while day <= min(last, end - 1, days - 1):
                    purchases.append((int(day), product, rng.randint(1, 2)))
                    day += rng.uniform(6, 14)
        visits = sorted({d for d, _, _ in purchases})
        for day in visits:  # now and then something new
            if rng.random() < 0.12:
                purchases.append((day, from_taste(), 1))
        yield Shopper(f"gen-{m:06d}", purchases)
