"""The control group split and the uplift arithmetic: pure functions, checked against known values."""

from decimal import Decimal

import pytest

from campaigns.domain.control import draw, in_control
from campaigns.domain.uplift import t_quantile, uplift


def test_the_split_is_deterministic_and_per_campaign() -> None:
    assert draw("c1", "m1") == draw("c1", "m1")
    assert draw("c1", "m1") != draw("c2", "m1")
    assert 0 <= draw("c1", "m1") < 1


def test_the_control_share_is_what_was_asked_for() -> None:
    members = [f"m{i}" for i in range(20_000)]
    held = sum(in_control("spring", m, Decimal("0.10")) for m in members)
    # Binomial(20000, 0.1): sd 42, so ±200 is nearly five standard deviations.
    assert 1_800 < held < 2_200
    assert not any(in_control("spring", m, Decimal("0")) for m in members[:500])
    assert all(in_control("spring", m, Decimal("1")) for m in members[:500])


def test_a_larger_share_holds_out_everyone_a_smaller_one_did() -> None:
    members = [f"m{i}" for i in range(2_000)]
    small = {m for m in members if in_control("x", m, Decimal("0.05"))}
    large = {m for m in members if in_control("x", m, Decimal("0.20"))}
    assert small < large


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [(0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 3, 3.1824), (0.975, 10, 2.2281),
     (0.975, 30, 2.0423), (0.95, 4, 2.1318), (0.995, 7, 3.4995), (0.975, 1000, 1.9623), (0.025, 10, -2.2281)],
)
def test_t_quantiles_match_the_tables(p: float, df: float, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    # Welch's degrees of freedom for tiny groups fall between 1 and 2, where Hill's series alone
    # was off by up to a sixth (SciPy's `t.ppf` gives these).
    [(0.975, 1.147, 9.436223302373177), (0.975, 1.01, 12.412738499102536), (0.975, 1.5, 6.016663104427929),
     (0.95, 1.3, 4.333339183467029), (0.995, 2.5, 7.163728138948783), (0.025, 1.5, -6.016663104427929)],
)
def test_t_quantiles_between_one_and_two_degrees_of_freedom_are_exact(p: float, df: float, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-9)


def test_uplift_matches_a_welch_interval_worked_by_hand() -> None:
    treatment = [Decimal(v) for v in ("120", "80", "100", "140", "60")]  # mean 100, variance 1000
    control = [Decimal(v) for v in ("90", "70", "80", "60", "100")]  # mean 80, variance 250
    result = uplift(treatment, control)
    # se = sqrt(1000/5 + 250/5) = 15.8114; df = 250**2 / (200**2/4 + 50**2/4) = 5.882;
    # t(0.975, 5.882) = 2.4592 (between 2.5706 at 5 and 2.4469 at 6), so the half-width is 38.88
    assert result.treatment_mean == Decimal("100.00")
    assert result.control_mean == Decimal("80.00")
    assert result.difference == Decimal("20.00")
    assert result.low == pytest.approx(Decimal("-18.88"), abs=Decimal("0.02"))
    assert result.high == pytest.approx(Decimal("58.88"), abs=Decimal("0.02"))
    assert result.relative == Decimal("0.2500")
    assert not result.significant


def test_a_clear_effect_is_significant() -> None:
    treatment = [Decimal(100 + i % 7) for i in range(400)]
    control = [Decimal(90 + i % 7) for i in range(100)]
    result = uplift(treatment, control)
    assert abs(result.difference - Decimal("10")) < Decimal("0.5")
    assert result.significant and result.low is not None and result.low > 0


def test_small_groups_get_no_interval_and_a_zero_control_no_ratio() -> None:
    result = uplift([Decimal("10")], [Decimal("0"), Decimal("0")])
    assert result.low is None and result.high is None and not result.significant
    assert result.relative is None
    with pytest.raises(ValueError):
        uplift([], [Decimal("1")])


def test_the_means_are_the_groups_spend_per_member_to_the_cent() -> None:
    # 601.695 a member: floats made it 601.69, while the results' spend per member (Decimal) says 601.70.
    result = uplift([Decimal("661.54"), Decimal("541.85")], [Decimal("120.17"), Decimal("542.02")])
    assert (result.treatment_mean, result.control_mean) == (Decimal("601.70"), Decimal("331.10"))
    assert result.difference == Decimal("270.60")  # 601.695 - 331.095, to the cent
    assert result.relative == Decimal("0.8173")


def test_groups_without_any_spread_get_no_interval_rather_than_a_certain_one() -> None:
    # Everyone in both groups the same (nobody bought yet, or each treated member visited once and
    # no control member did): the sample variances are 0, which says nothing about the uncertainty.
    nothing = uplift([Decimal("0")] * 120, [Decimal("0")] * 17)
    assert (nothing.difference, nothing.low, nothing.high) == (Decimal("0.00"), None, None)
    once = uplift([Decimal("1")] * 3, [Decimal("0")] * 2)
    assert once.difference == Decimal("1.00")
    assert (once.low, once.high) == (None, None) and not once.significant


def test_a_control_group_without_spread_takes_the_treatment_s_variance_worked_by_hand() -> None:
    treatment = [Decimal(v) for v in ("120", "80", "100", "140", "60")]  # mean 100, variance 1000
    control = [Decimal("0")] * 3
    result = uplift(treatment, control)
    # The control's variance taken to be the treatment's, 1000: se = sqrt(1000 * (1/5 + 1/3)) =
    # 23.094, df = 6, t(0.975, 6) = 2.4469, so the half-width is 56.51 and the interval 100 ± 56.51
    # (Welch's, from the treatment alone, was 100 ± 39.26; the zero pooled in, 100 ± 46.14)
    assert result.difference == Decimal("100.00")
    assert result.low == pytest.approx(Decimal("43.49"), abs=Decimal("0.02"))
    assert result.high == pytest.approx(Decimal("156.51"), abs=Decimal("0.02"))
    assert result.significant and result.relative is None


def test_a_control_of_two_who_bought_nothing_does_not_make_a_few_buyers_certain() -> None:
    # A hundred reached, ten of them spent 100: mean 10. Two held out, neither bought, as two
    # customers in ten would not without any campaign. Welch's interval, from the treatment's
    # variance alone, was 10 ± 5.98 and "significant"; taking the control's variance to be the
    # treatment's, 909.09: se = sqrt(909.09 * (1/100 + 1/2)) = 21.53, df 100, t = 1.984, 10 ± 42.72.
    treatment = [Decimal("100")] * 10 + [Decimal("0")] * 90
    result = uplift(treatment, [Decimal("0")] * 2)
    assert result.difference == Decimal("10.00")
    assert result.low == pytest.approx(Decimal("-32.72"), abs=Decimal("0.05"))
    assert result.high == pytest.approx(Decimal("52.72"), abs=Decimal("0.05"))
    assert not result.significant


def test_a_large_control_where_nobody_bought_yet_does_not_narrow_the_interval() -> None:
    # A store's row of a campaign's results: 12 reached, four spent 119.00; 17 held out, none bought
    # there. Its zero pooled in as it stood weighed as evidence of no spread: [10.73, 68.60],
    # "significant". Its variance taken to be the treatment's (3432.97), df 27: [-5.66, 84.99].
    result = uplift([Decimal("119.00")] * 4 + [Decimal("0")] * 8, [Decimal("0")] * 17)
    assert (result.low, result.high) == (Decimal("-5.66"), Decimal("84.99"))
    assert not result.significant
