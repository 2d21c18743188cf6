"""Coupons: templates, issuing, the till's validate / reserve / release, and redemption and
reversal from the sales on the POS topic.

Budgets and caps are counters (`coupon_counter`), taken with one conditional UPDATE
(`used + n <= cap`) in the same transaction as the coupon's change of state, so concurrent tills
can never push a counter past its cap. What a coupon's use is counted in:
- `<template>|<campaign>|redemptions`: every use (count and money): caps `redemptions`, `amount`;
- `...|member|<member>`: per member (`per_member`);
- `...|member|<member>|period|<n>`: per member and period (`per_member_per_period`, `period_days`,
  periods of `period_days` days counted from 1970-01-01 UTC);
- `...|store|<store>`: per store (`per_store`);
- `...|issued`: coupons issued (`issued`); its row is also the lock an issue to members takes
  before reading who holds one already, capped or not, so one member never gets two at once.
A use is counted when the coupon is reserved (or redeemed by a sale that did not reserve it), and
given back when the reservation is released or a refund returns the coupon.

Coupon rows are locked (SELECT ... FOR UPDATE, in code order) before their state is judged, so two
tills racing for one coupon see each other's reservation; every transition is guarded by the state
it leaves, and the sale and refund handlers are deduplicated by event id, so each happens once.

The modules: `templates` (creating and reading templates), `counters` (the budgets and caps),
`issuing` (coupons to members), `cards` (the member's card of a sale), `till` (validate, reserve,
release), `redemption` (sales and returns) and `wallet` (a member's coupons). Import from them:
this package re-exports nothing.
"""
