"""The coin benchmark's latency figures: the nearest-rank percentile its HTTP runs report."""

from __future__ import annotations

import random

import pytest

from federation.coins.bench.http import percentile, summary


def test_percentiles_of_one_to_a_hundred_are_their_ranks() -> None:
    samples = list(range(100, 0, -1))  # order does not matter
    ranks = [1, 7, 29, 50, 57, 95, 99, 100]
    assert [percentile(samples, q) for q in ranks] == ranks


def test_a_percentile_is_the_smallest_sample_with_that_share_at_or_below_it() -> None:
    samples = [0.010, 0.020, 0.030, 0.040]
    assert percentile(samples, 25) == 0.010
    assert percentile(samples, 26) == 0.020
    assert percentile(samples, 50) == 0.020
    assert percentile(samples, 51) == 0.030
    assert percentile(samples, 99) == 0.040


def test_one_slow_request_in_a_hundred_shows_at_p99_not_p95() -> None:
    samples = [0.005] * 99 + [0.500]
    random.Random(1).shuffle(samples)
    assert percentile(samples, 95) == 0.005
    assert percentile(samples, 99) == 0.005
    assert percentile([*samples, 0.500], 99) == 0.500


def test_a_single_sample_is_every_percentile() -> None:
    assert {percentile([0.25], q) for q in (0.1, 50, 99, 100)} == {0.25}


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_a_percentile_outside_the_range_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0, 2.0], q)


def test_no_samples_have_no_percentile() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_the_summary_shows_milliseconds() -> None:
    samples = [n / 1000 for n in range(1, 101)]
    assert summary(samples) == "p50   50.0  p95   95.0  p99   99.0 ms"
