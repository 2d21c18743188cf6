"""What a campaign did: treatment against its control group.

The effect of a campaign is the difference in mean spend (or visits) per member between those who
received it and those held out, over the same window. Every member of each group counts, buyers or
not (a zero is an outcome), so the means are per member reached, not per buyer.

The interval is Welch's: the two groups' variances are not assumed equal (a coupon makes spend more
spread out as well as higher), and its degrees of freedom come from the Welch–Satterthwaite
formula. When one group has no spread at all (a small control group where nobody has bought yet),
its sample variance of zero is no evidence that its members cannot vary: Welch's interval would
then be the other group's uncertainty alone, as certain of a control of two as of a control of two
thousand. That group's variance is taken to be the other's instead: the pooled (Student) interval,
with n_t + n_c - 2 degrees of freedom. The t quantile is computed here rather than pulling in SciPy
for one function.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist, fmean, variance

CENT = Decimal("0.01")
# Fewer members than this in a group and no interval is given: it would say more than the data.
MIN_GROUP = 2


@dataclass(frozen=True)
class Uplift:
    treatment_mean: Decimal
    control_mean: Decimal
    difference: Decimal  # treatment - control, per member
    low: Decimal | None  # the confidence interval of the difference; None when a group is too small or
    # neither group varies
    high: Decimal | None
    relative: Decimal | None  # difference / control mean; None when the control spent nothing
    confidence: Decimal

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom: Hill's 1970 series as the first
    guess, then Newton's steps on the exact distribution function. Hill's series alone is off by
    up to a sixth between 1 and 2 degrees of freedom, where Welch's formula lands for small groups."""
    if not 0 < p < 1:
        raise ValueError("p must lie in (0, 1)")
    if math.isinf(df) or df > 1e7:
        return NormalDist().inv_cdf(p)
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        q = 2 * (1 - p)
        return math.sqrt(2 / (q * (2 - q)) - 2)
    t = _hill(p, df)
    for _ in range(NEWTON_STEPS):
        step = (_t_upper(t, df) - (1 - p)) / _t_density(t, df)  # the upper tail falls as t grows
        t += step
        if abs(step) <= 1e-12 * t:
            break
    return t


NEWTON_STEPS = 20  # from Hill's guess, a handful; the cap only bounds a pathological case


def _hill(p: float, df: float) -> float:
    """G. W. Hill, Algorithm 396: Student's t-quantiles (two-sided probability 2(1-p))."""
    q = 2 * (1 - p)
    a = 1 / (df - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * df
    x = d * q
    y = x ** (2 / df)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(q * 0.5)
        y = x * x
        if df < 5:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        y = ((1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)) * y - 1) * (
            df + 1
        ) / (df + 2) + 1 / y
    return math.sqrt(df * y)


def _t_density(t: float, df: float) -> float:
    log = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log - (df + 1) / 2 * math.log1p(t * t / df))


def _t_upper(t: float, df: float) -> float:
    """P(T > t) for t >= 0: half the regularized incomplete beta I_x(df/2, 1/2), x = df/(df+t²)."""
    return 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Numerical
    Recipes' betacf, modified Lentz), on the side of x where it converges fast."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def uplift(treatment: Sequence[Decimal], control: Sequence[Decimal], confidence: Decimal = Decimal("0.95")) -> Uplift:
    """Difference in mean per member, with Welch's interval at `confidence`."""
    if not treatment or not control:
        raise ValueError("both groups need at least one member")
    # The means and their difference are money, in Decimal: in floats a mean of 601.695 came out
    # 601.69 beside the group's spend per member of 601.70 on the same report. Only the interval,
    # an estimate, is worked in floats.
    mean_t = sum(treatment, Decimal(0)) / len(treatment)
    mean_c = sum(control, Decimal(0)) / len(control)
    t = [float(v) for v in treatment]
    c = [float(v) for v in control]
    low = high = None
    if len(t) >= MIN_GROUP and len(c) >= MIN_GROUP:
        mt, mc = fmean(t), fmean(c)
        vt, vc = variance(t) / len(t), variance(c) / len(c)
        se = math.sqrt(vt + vc)
        # Both groups without any spread (everyone spent the same, typically nothing yet): their
        # variances estimate zero uncertainty, and an interval of [d, d] would claim the effect is
        # known to the cent (and "significant" for any d other than 0). There is no interval then.
        if se > 0:
            if vt and vc:
                df = (vt + vc) ** 2 / (vt**2 / (len(t) - 1) + vc**2 / (len(c) - 1))
            else:  # one group without spread: the pooled interval (module docstring)
                df = len(t) + len(c) - 2
                # Its variance taken to be the other's, so the common variance is the other's: the
                # zero pooled in as it stands would weigh in as evidence of no spread, and a large
                # control where nobody has bought yet would narrow the interval to a false certainty.
                common = variance(t) or variance(c)
                se = math.sqrt(common * (1 / len(t) + 1 / len(c)))
            half = t_quantile(1 - (1 - float(confidence)) / 2, df) * se
            low, high = mt - mc - half, mt - mc + half
    return Uplift(
        treatment_mean=mean_t.quantize(CENT, rounding=ROUND_HALF_EVEN),
        control_mean=mean_c.quantize(CENT, rounding=ROUND_HALF_EVEN),
        difference=(mean_t - mean_c).quantize(CENT, rounding=ROUND_HALF_EVEN),
        low=None if low is None else _money(low),
        high=None if high is None else _money(high),
        relative=None if mean_c == 0 else ((mean_t - mean_c) / mean_c).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN),
        confidence=confidence,
    )
