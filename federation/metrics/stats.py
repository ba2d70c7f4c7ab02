"""The intervals the lift is reported with, 95% two-sided, written out so a finance team can
check them by hand:

- a difference of two rates (treated minus holdout): Newcombe's hybrid score interval (his
  method 10, 1998), built from each group's Wilson interval; it keeps its coverage near 95%
  for small rates, where the plain Wald interval does not;
- a difference of two means (yen or coins per member): Welch's interval, with the
  Welch-Satterthwaite degrees of freedom and Student's t quantile (a Cornish-Fisher expansion
  of the normal one, exact to 1e-4 from 10 degrees of freedom).

Below ``MIN_GROUP`` members in either group the figures say nothing: ``too_small``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z = NormalDist().inv_cdf(0.975)
MIN_GROUP = 30


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float

    def rounded(self, digits: int) -> dict[str, float]:
        return {
            "difference": round(self.difference, digits),
            "low": round(self.low, digits),
            "high": round(self.high, digits),
        }


def too_small(treated: int, holdout: int) -> bool:
    return min(treated, holdout) < MIN_GROUP


def wilson(successes: int, n: int, z: float = Z) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference(x1: int, n1: int, x0: int, n0: int) -> Interval:
    """Group 1's rate minus group 0's, with Newcombe's hybrid score interval."""
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1)
    l0, u0 = wilson(x0, n0)
    d = p1 - p0
    return Interval(
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2),
    )


def t_quantile(df: float, z: float = Z) -> float:
    """Student's t quantile for ``df`` degrees of freedom at the normal quantile ``z``."""
    if math.isinf(df):
        return z
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(term / df ** (power + 1) for power, term in enumerate(terms))


@dataclass(frozen=True)
class Sample:
    """A group's size, sum and sum of squares: all an interval of means needs, as SQL sums
    them up."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def variance(self) -> float:
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


def mean_difference(treated: Sample, holdout: Sample) -> Interval:
    """Treated mean minus holdout mean, with Welch's interval."""
    a, b = treated.variance / treated.n, holdout.variance / holdout.n
    d = treated.mean - holdout.mean
    se = math.sqrt(a + b)
    if se == 0:
        return Interval(d, d, d)
    df = (a + b) ** 2 / (a * a / (treated.n - 1) + b * b / (holdout.n - 1))
    half = t_quantile(df) * se
    return Interval(d, d - half, d + half)
