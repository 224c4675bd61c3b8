"""Classification, method choice and the backtest's scores of ``forecast_series``."""

import numpy as np
import pytest

from backorders.services.planning import forecast as fc
from backorders.services.planning.forecast import (
    CROSTON,
    ERRATIC,
    INTERMITTENT,
    LUMPY,
    NO_DEMAND,
    SBA,
    SEASONAL,
    SES,
    SMOOTH,
    TSB,
    ZERO,
    ForecastInputError,
    classify,
    forecast_series,
    ses,
)

DAYS = 364
T = np.arange(DAYS)


def every(n: int, sizes: list[float], days: int = 60) -> np.ndarray:
    """A demand every ``n``-th day, cycling through ``sizes``."""
    y = np.zeros(days)
    y[::n] = np.resize(sizes, len(y[::n]))
    return y


def test_each_class_from_a_series_built_for_it():
    # smooth: every day, sizes 9, 10, 11: ADI 1, CV² = (2/3)/100 = 0.0067.
    # erratic: every day, 1 and 20 alternating: mean 10.5, σ² = 9.5² = 90.25, CV² = 0.8186.
    # intermittent: every 3rd day 5 units: ADI = 60/20 = 3, CV² = 0.
    # lumpy: every 3rd day 1 and 20: ADI 3, CV² 0.8186.
    # at the cut-off: 33 days with demand on 25 of them: ADI = 1.32 exactly, so intermittent.
    at_cutoff = np.zeros(33)
    at_cutoff[:25] = 4
    series = [every(1, [9, 10, 11]), every(1, [1, 20]), every(3, [5]), every(3, [1, 20]), np.zeros(60)]
    classes = classify(np.vstack(series))
    assert classes.klass.tolist() == [SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND]
    assert classes.adi[:4] == pytest.approx([1, 1, 3, 3])
    assert classes.cv2[:4] == pytest.approx([2 / 3 / 100, 90.25 / 110.25, 0, 90.25 / 110.25])
    edge = classify(at_cutoff)
    assert edge.adi[0] == pytest.approx(1.32) and edge.klass[0] == INTERMITTENT


def test_censored_days_do_not_count_as_days_without_demand():
    # Demand every other day, the days between censored (sold out): ADI 1 (smooth), not 2.
    y = every(2, [6])
    censored = y == 0
    assert classify(y).klass[0] == INTERMITTENT
    assert classify(y, censored).klass[0] == SMOOTH


def test_weekly_pattern_chooses_seasonal_es_and_forecasts_the_weekend():
    rng = np.random.default_rng(5)
    weekly = np.where(T % 7 >= 5, 20.0, 2.0) + rng.poisson(1, DAYS)
    f = forecast_series(weekly[None, :])
    assert f.method[0] == SEASONAL
    # The next 7 days are days 364…370: weekdays 0…6, weekend on 5 and 6.
    assert (f.forecast[0, [5, 6]] > 15).all() and (f.forecast[0, :5] < 6).all()


def test_a_trend_is_learnt_where_it_helps():
    rng = np.random.default_rng(5)
    # 0.2 more units a day every day, noise of σ = 1: SES would lag by (1 − α)/α · 0.2 a day.
    rising = np.round(2 + 0.2 * T + rng.normal(0, 1, DAYS)).clip(0)
    f = forecast_series(rising[None, :], horizon=28)
    assert f.method[0] == SEASONAL and f.beta[0] > 0
    slope = (f.forecast[0, 27] - f.forecast[0, 20]) / 7  # same weekday, a week apart
    assert slope == pytest.approx(0.2, abs=0.03)


def test_intermittent_and_lumpy_series_use_methods_made_for_them():
    rng = np.random.default_rng(7)
    rare = (rng.random((2, DAYS)) < 0.15) * np.array([[3.0], [1.0]]) * rng.integers(1, [[3], [60]], (2, DAYS))
    f = forecast_series(rare)
    assert set(f.klass.tolist()) <= {INTERMITTENT, LUMPY}
    assert set(f.method.tolist()) <= {CROSTON, SBA, TSB}
    # A rate, not a day's size: a little below the average demand per day.
    assert f.forecast[:, 0] == pytest.approx(rare[:, -120:].mean(axis=1), rel=0.6)


def test_rmsse_bias_and_sigma_are_those_of_the_chosen_method():
    rng = np.random.default_rng(3)
    flat = rng.poisson(10, DAYS).astype(float)
    f = forecast_series(flat[None, :], window=56)
    assert f.method[0] == SES
    _, fitted = ses(flat, float(f.alpha[0]))
    test, pred = flat[-56:], fitted[0, -56:]
    diffs = np.diff(flat[:-56])
    rmse = np.sqrt(np.mean((test - pred) ** 2))
    assert f.sigma[0] == pytest.approx(rmse, rel=1e-4)
    assert f.rmsse[0] == pytest.approx(rmse / np.sqrt(np.mean(diffs**2)), rel=1e-4)
    assert f.scaled_bias[0] == pytest.approx(
        np.mean(pred - test) / np.mean(np.abs(diffs)), rel=1e-3, abs=1e-6
    )
    # A candidate scored as "forecast zero" would have RMSSE √(mean y²) / √(mean Δy²) ≈ 0.73.
    assert f.rmsse[0] < 0.75 * np.sqrt(np.mean(test**2)) / np.sqrt(np.mean(diffs**2))


def test_a_stock_out_marked_censored_does_not_drag_the_forecast_down():
    rng = np.random.default_rng(11)
    y = rng.poisson(10, DAYS).astype(float)
    y[-20:] = 0  # sold out for the last 20 days
    censored = np.zeros(DAYS, dtype=bool)
    censored[-20:] = True
    seen = forecast_series(np.vstack([y, y]), np.vstack([censored, np.zeros(DAYS, dtype=bool)]))
    assert seen.forecast[0, 0] == pytest.approx(10, abs=1.5)  # the true rate
    assert seen.forecast[1, 0] < 5  # counting the zeros as demand underestimates it


def test_no_demand_forecasts_zero():
    f = forecast_series(np.zeros((1, DAYS)))
    assert f.method[0] == ZERO and f.forecast[0].tolist() == [0.0] * 28 and f.sigma[0] == 0


def test_blocks_and_threads_give_the_same_answers_as_one(monkeypatch):
    rng = np.random.default_rng(2)
    y = np.vstack(
        [rng.poisson(r, DAYS) * (rng.random(DAYS) < p) for r, p in [(8, 1), (3, 0.3), (20, 0.05)] * 3]
    )
    whole = forecast_series(y)
    monkeypatch.setattr(fc, "BLOCK", 2)
    parts = forecast_series(y)
    threads = forecast_series(y, workers=3)
    assert parts.method.tolist() == whole.method.tolist() == threads.method.tolist()
    np.testing.assert_allclose(parts.forecast, whole.forecast, rtol=1e-6)
    np.testing.assert_array_equal(threads.forecast, parts.forecast)
    np.testing.assert_array_equal(threads.rmsse, parts.rmsse)


@pytest.mark.parametrize(
    ("demand", "censored", "kwargs"),
    [
        (np.full((1, 60), -1.0), None, {}),
        (np.full((1, 60), np.nan), None, {}),
        (np.ones((2, 60)), np.zeros((2, 59), dtype=bool), {}),
        (np.ones((1, 60)), None, {"window": 40}),  # leaves 20 days, fewer than four weeks
        (np.ones((1, 120)), None, {"service_level": 1.0}),
    ],
)
def test_inputs_that_do_not_fit_are_refused(demand, censored, kwargs):
    with pytest.raises(ForecastInputError):
        forecast_series(demand, censored, **kwargs)
