"""Forecasts of daily demand made for intermittent demand, vectorised over all series of a shop.

Input: ``demand`` (series × days, units per day) and ``censored`` (same shape, True where the day
is not an observation: ``selectors.demand``). Pure functions, no database. Python loops run over
days (and over the few candidate methods), never over series: every step is one numpy operation
on all series at once.

Censored days are *removed* from every series: a method neither learns from them nor is scored
on them, and an interval between two demands counts only observed days. For SES, Croston, SBA
and TSB this equals running the method on the series with its censored days deleted (what the
reference tests check against statsforecast). The weekly-seasonal method keeps the calendar (its
level moves by its trend over a censored day, nothing else changes).

Classification (Syntetos–Boylan, one definition)
    Over the observed days of a series, ``ADI = observed days / days with demand`` (the average
    inter-demand interval) and ``CV² = (σ / μ)²`` of the non-zero daily demands (population σ,
    0 with a single demand). ``ADI < 1.32`` and ``CV² < 0.49``: smooth; ``ADI < 1.32``,
    ``CV² ≥ 0.49``: erratic; ``ADI ≥ 1.32``, ``CV² < 0.49``: intermittent; both at or over:
    lumpy. A series without any demand is "no demand" and forecasts zero.

Methods (statsforecast's conventions, checked against it to 1e-6)
    * SES: the level starts at the first observation and is updated by
      ``l ← l + α (y − l)`` on each later one; the fitted value of a day is the level before it,
      the forecast the level after the last day.
    * Croston: SES (same α) of the non-zero demand sizes ``z`` and of the intervals ``p`` between
      them (the first interval counts from the first observed day, that day included: a demand on
      the first day has interval 1); forecast ``z / p``. SBA multiplies it by ``1 − α/2``
      (statsforecast's 0.95 at its fixed α = 0.1).
    * TSB: SES (α_p) of the demand indicator on every observed day, SES (α_d) of the non-zero
      sizes; forecast ``p · z``.
    * Croston, SBA and TSB fit 0 before the first demand and nothing (NaN) on the first observed
      day; a series without demand forecasts 0.
    * Weekly-seasonal ES (additive Holt–Winters, period 7): level, trend and seven day-of-week
      indices, initialised from the first four weeks (level = their observed mean, indices = each
      weekday's mean less it, trend 0); β = 0 keeps the trend at 0, β > 0 lets it learn one, so
      "with trend where it helps" is decided by the backtest like any other constant.

    Smooth and erratic series choose among SES and the seasonal method; intermittent and lumpy
    series among Croston, SBA and TSB; the constants come from small grids (``*_GRID``).

Choosing (rolling-origin backtest)
    The last ``window`` days are the test: the forecast of each of them is made at the end of the
    day before (the origin rolls one day at a time, the constants stay fixed, the states have
    seen every earlier day), so one pass over the days scores every candidate. On the observed
    test days: ``RMSSE = √(mean (y − f)² / mean (Δy)²)`` with ``Δy`` the day-to-day change over
    the observed days before the test (the naive forecast's error), the primary criterion (MASE,
    a mean absolute error, is minimised by forecasting zero on intermittent series); also the
    scaled bias ``mean (f − y) / mean |Δy|`` and the pinball loss at the service-level quantile
    ``τ`` of ``f + z_τ · s`` (``s`` the candidate's RMSE over the test), scaled by ``mean |Δy|``.
    The candidate (method and constants) with the lowest RMSSE wins; its RMSE is the daily
    forecast error ``sigma`` that safety stock uses.
"""

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND = range(5)
CLASS_NAMES = ("smooth", "erratic", "intermittent", "lumpy", "no demand")

SES, SEASONAL, CROSTON, SBA, TSB, ZERO = range(6)
METHOD_NAMES = ("SES", "seasonal ES", "Croston", "SBA", "TSB", "zero")

SES_GRID = (0.05, 0.1, 0.2, 0.3, 0.5)
CROSTON_GRID = (0.05, 0.1, 0.2, 0.3)
TSB_GRID = ((0.1, 0.05), (0.1, 0.1), (0.2, 0.1), (0.1, 0.2), (0.3, 0.3))  # (α_d, α_p)
SEASONAL_GRID = tuple((a, b, g) for a in (0.1, 0.3) for b in (0.0, 0.05) for g in (0.05, 0.2))
PERIOD = 7
WARM_UP_DAYS = 4 * PERIOD


class ForecastInputError(ValueError):
    """The demand arrays do not fit together (shapes, negative demand, a window too long)."""


@dataclass(frozen=True)
class Classification:
    adi: np.ndarray  # (n,), inf without demand
    cv2: np.ndarray  # (n,), nan without demand
    klass: np.ndarray  # (n,) int8: SMOOTH … NO_DEMAND


@dataclass(frozen=True)
class Forecasts:
    """One row per series: its class, the method and constants chosen, the backtest's scores,
    the daily forecast for the next ``horizon`` days and the daily forecast error ``sigma``."""

    klass: np.ndarray  # (n,) int8
    adi: np.ndarray
    cv2: np.ndarray
    method: np.ndarray  # (n,) int8: SES … ZERO
    alpha: np.ndarray  # (n,) α (α_d for TSB); nan for ZERO
    beta: np.ndarray  # (n,) trend β (seasonal), α_p (TSB), else nan
    gamma: np.ndarray  # (n,) seasonal γ, else nan
    rmsse: np.ndarray
    scaled_bias: np.ndarray
    pinball: np.ndarray
    sigma: np.ndarray  # (n,) RMSE of the chosen method on the test days (units per day)
    forecast: np.ndarray  # (n, horizon) units per day, never negative

    def method_name(self, i: int) -> str:
        return METHOD_NAMES[int(self.method[i])]

    def class_name(self, i: int) -> str:
        return CLASS_NAMES[int(self.klass[i])]


def _check(demand: np.ndarray, censored: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(demand, dtype=np.float64)
    if y.ndim == 1:
        y = y[None, :]
    mask = np.zeros(y.shape, dtype=bool) if censored is None else np.asarray(censored, dtype=bool)
    if mask.ndim == 1:
        mask = mask[None, :]
    if y.ndim != 2 or mask.shape != y.shape:
        raise ForecastInputError("demand and censored must both be (series × days) arrays of one shape.")
    if (y < 0).any() or not np.isfinite(y).all():
        raise ForecastInputError("Daily demand must be finite and not negative.")
    return np.where(mask, 0.0, y), ~mask


def classify(demand: np.ndarray, censored: np.ndarray | None = None) -> Classification:
    """Syntetos–Boylan class of each series over its observed days (module docstring)."""
    y, observed = _check(demand, censored)
    positive = (y > 0) & observed
    n_obs = observed.sum(axis=1)
    n_pos = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_pos > 0, n_obs / np.maximum(n_pos, 1), np.inf)
        mean = np.where(positive, y, 0.0).sum(axis=1) / n_pos
        var = np.where(positive, (y - mean[:, None]) ** 2, 0.0).sum(axis=1) / n_pos
        cv2 = var / mean**2
    frequent, steady = adi < ADI_CUTOFF, cv2 < CV2_CUTOFF
    klass = np.select(
        [n_pos == 0, frequent & steady, frequent, steady], [NO_DEMAND, SMOOTH, ERRATIC, INTERMITTENT], LUMPY
    ).astype(np.int8)
    return Classification(adi=adi, cv2=cv2, klass=klass)


# --- The filters: one pass over the days, all series and all constants of a grid at once. -----
# Each returns (fitted values of days keep_from…T−1 as (n, k, days), the state after the last day).


def _ses_pass(
    y: np.ndarray, observed: np.ndarray, alphas: np.ndarray, keep_from: int
) -> tuple[np.ndarray, np.ndarray]:
    n, days = y.shape
    level = np.full((n, alphas.size), np.nan)
    fitted = np.empty((n, alphas.size, days - keep_from))
    for t in range(days):
        if t >= keep_from:
            fitted[:, :, t - keep_from] = level
        obs = observed[:, t, None]
        x = y[:, t, None]
        new = np.where(np.isnan(level), x, level + alphas * (x - level))
        level = np.where(obs, new, level)
    return fitted, level


def _croston_pass(
    y: np.ndarray, observed: np.ndarray, alphas: np.ndarray, keep_from: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Croston's size and interval levels; fitted values are z / p, 0 before the first demand
    (statsforecast's convention), NaN until the first observed day."""
    n, days = y.shape
    size = np.full((n, alphas.size), np.nan)
    interval = np.full((n, alphas.size), np.nan)
    since = np.zeros((n, 1))
    seen = np.zeros((n, 1), dtype=bool)
    fitted = np.empty((n, alphas.size, days - keep_from))
    for t in range(days):
        if t >= keep_from:
            value = np.where(np.isnan(size), 0.0, size / interval)
            fitted[:, :, t - keep_from] = np.where(seen, value, np.nan)
        x = y[:, t, None]
        since += observed[:, t, None]
        seen |= observed[:, t, None]
        hit = observed[:, t, None] & (x > 0)
        first = np.isnan(size)
        size = np.where(hit, np.where(first, x, size + alphas * (x - size)), size)
        interval = np.where(hit, np.where(first, since, interval + alphas * (since - interval)), interval)
        since = np.where(hit, 0.0, since)
    return fitted, size, interval


def _tsb_pass(
    y: np.ndarray, observed: np.ndarray, alpha_d: np.ndarray, alpha_p: np.ndarray, keep_from: int
) -> tuple[np.ndarray, np.ndarray]:
    n, days = y.shape
    size = np.full((n, alpha_d.size), np.nan)
    prob = np.full((n, alpha_p.size), np.nan)
    fitted = np.empty((n, alpha_d.size, days - keep_from))
    for t in range(days):
        if t >= keep_from:
            # 0 before the first demand, NaN until the first observed day (statsforecast's).
            fitted[:, :, t - keep_from] = prob * np.where(np.isnan(size), 0.0, size)
        x = y[:, t, None]
        obs = observed[:, t, None]
        hit = obs & (x > 0)
        size = np.where(hit, np.where(np.isnan(size), x, size + alpha_d * (x - size)), size)
        indicator = (x > 0).astype(np.float64)
        prob = np.where(obs, np.where(np.isnan(prob), indicator, prob + alpha_p * (indicator - prob)), prob)
    return fitted, prob * size


def _seasonal_pass(
    y: np.ndarray, observed: np.ndarray, params: np.ndarray, keep_from: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Additive Holt–Winters with a weekly period; ``params`` is (k, 3) of (α, β, γ)."""
    n, days = y.shape
    alpha, beta, gamma = params[:, 0], params[:, 1], params[:, 2]
    head_y, head_obs = y[:, :WARM_UP_DAYS], observed[:, :WARM_UP_DAYS]
    with np.errstate(invalid="ignore"):
        base = np.where(head_obs, head_y, 0).sum(axis=1) / head_obs.sum(axis=1)
    base = np.nan_to_num(base)
    season0 = np.zeros((n, PERIOD))
    for d in range(PERIOD):  # seven weekdays, not series
        cols_y, cols_o = head_y[:, d::PERIOD], head_obs[:, d::PERIOD]
        count = cols_o.sum(axis=1)
        mean = np.where(cols_o, cols_y, 0).sum(axis=1) / np.maximum(count, 1)
        season0[:, d] = np.where(count > 0, mean - base, 0.0)
    k = params.shape[0]
    level = np.repeat(base[:, None], k, axis=1)
    trend = np.zeros((n, k))
    season = np.repeat(season0[:, :, None], k, axis=2)  # (n, 7, k)
    fitted = np.empty((n, k, days - keep_from))
    for t in range(days):
        s = season[:, t % PERIOD, :]
        if t >= keep_from:
            fitted[:, :, t - keep_from] = level + trend + s
        x = y[:, t, None]
        obs = observed[:, t, None]
        new_level = alpha * (x - s) + (1 - alpha) * (level + trend)
        new_trend = beta * (new_level - level) + (1 - beta) * trend
        new_season = gamma * (x - new_level) + (1 - gamma) * s
        season[:, t % PERIOD, :] = np.where(obs, new_season, s)
        level = np.where(obs, new_level, level + trend)
        trend = np.where(obs, new_trend, trend)
    return fitted, (level, trend, season)


# --- The reference-comparable methods (whole fitted series and the next-day forecast). ---------


def ses(
    demand: np.ndarray, alpha: float, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Simple exponential smoothing of each series: (forecast (n,), fitted (n, days))."""
    y, observed = _check(demand, censored)
    fitted, level = _ses_pass(y, observed, np.array([alpha]), 0)
    return level[:, 0], fitted[:, 0, :]


def croston(
    demand: np.ndarray, alpha: float = 0.1, *, sba: bool = False, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Croston's method (``sba``: with the Syntetos–Boylan correction ``1 − α/2``): (forecast,
    fitted). A series without demand forecasts 0 (fitted NaN)."""
    y, observed = _check(demand, censored)
    fitted, size, interval = _croston_pass(y, observed, np.array([alpha]), 0)
    factor = 1 - alpha / 2 if sba else 1.0
    return np.nan_to_num(size[:, 0] / interval[:, 0]) * factor, fitted[:, 0, :] * factor


def tsb(
    demand: np.ndarray, alpha_d: float, alpha_p: float, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Teunter–Syntetos–Babai: (forecast, fitted). A series without demand forecasts 0."""
    y, observed = _check(demand, censored)
    fitted, final = _tsb_pass(y, observed, np.array([alpha_d]), np.array([alpha_p]), 0)
    return np.nan_to_num(final[:, 0]), fitted[:, 0, :]


# --- Choosing and forecasting. -----------------------------------------------------------------


@dataclass
class _Candidates:
    method: list[int]
    params: list[tuple[float, float, float]]
    fitted: list[np.ndarray]  # each (n, k_i, window)
    ahead: list[np.ndarray]  # each (n, k_i, horizon)


def _intermittent(y: np.ndarray, observed: np.ndarray, keep_from: int, horizon: int) -> _Candidates:
    alphas = np.array(CROSTON_GRID)
    fitted, size, interval = _croston_pass(y, observed, alphas, keep_from)
    flat = np.nan_to_num(size / interval)
    sba = 1 - alphas / 2
    alpha_d = np.array([a for a, _ in TSB_GRID])
    alpha_p = np.array([p for _, p in TSB_GRID])
    tsb_fitted, tsb_final = _tsb_pass(y, observed, alpha_d, alpha_p, keep_from)
    tsb_flat = np.nan_to_num(tsb_final)
    nan = float("nan")
    return _Candidates(
        method=[CROSTON] * alphas.size + [SBA] * alphas.size + [TSB] * alpha_d.size,
        params=[(a, nan, nan) for a in CROSTON_GRID] * 2 + [(a, p, nan) for a, p in TSB_GRID],
        fitted=[fitted, fitted * sba[None, :, None], tsb_fitted],
        ahead=[
            np.repeat(flat[:, :, None], horizon, axis=2),
            np.repeat((flat * sba)[:, :, None], horizon, axis=2),
            np.repeat(tsb_flat[:, :, None], horizon, axis=2),
        ],
    )


def _smooth(y: np.ndarray, observed: np.ndarray, keep_from: int, horizon: int) -> _Candidates:
    alphas = np.array(SES_GRID)
    fitted, level = _ses_pass(y, observed, alphas, keep_from)
    params = np.array(SEASONAL_GRID)
    s_fitted, (s_level, s_trend, s_season) = _seasonal_pass(y, observed, params, keep_from)
    days = y.shape[1]
    steps = np.arange(1, horizon + 1)
    weekday = (days - 1 + steps) % PERIOD
    seasonal_ahead = (
        s_level[:, :, None]
        + s_trend[:, :, None] * steps[None, None, :]
        + s_season[:, weekday, :].transpose(0, 2, 1)
    )
    nan = float("nan")
    return _Candidates(
        method=[SES] * alphas.size + [SEASONAL] * params.shape[0],
        params=[(a, nan, nan) for a in SES_GRID] + [tuple(p) for p in SEASONAL_GRID],
        fitted=[fitted, s_fitted],
        ahead=[np.repeat(np.nan_to_num(level)[:, :, None], horizon, axis=2), seasonal_ahead],
    )


def _scores(
    y: np.ndarray, observed: np.ndarray, fitted: np.ndarray, keep_from: int, tau: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """RMSSE, scaled bias, scaled pinball loss and RMSE of every candidate: each (n, k)."""
    train_y, train_obs = y[:, :keep_from], observed[:, :keep_from]
    pairs = train_obs[:, 1:] & train_obs[:, :-1]
    step = np.where(pairs, np.diff(train_y, axis=1), 0.0)
    n_pairs = np.maximum(pairs.sum(axis=1), 1)
    scale_sq = (step**2).sum(axis=1) / n_pairs
    scale_abs = np.abs(step).sum(axis=1) / n_pairs
    # A series that never changed before the test (e.g. all zero): scale by its level, else 1.
    level = np.where(train_obs, train_y, 0).sum(axis=1) / np.maximum(train_obs.sum(axis=1), 1)
    scale_sq = np.where(scale_sq > 0, scale_sq, np.where(level > 0, level**2, 1.0))
    scale_abs = np.where(scale_abs > 0, scale_abs, np.where(level > 0, level, 1.0))

    test_y, test_obs = y[:, None, keep_from:], observed[:, None, keep_from:]
    f = np.nan_to_num(fitted)
    count = np.maximum(test_obs.sum(axis=2), 1)
    err = np.where(test_obs, f - test_y, 0.0)
    mse = (err**2).sum(axis=2) / count
    rmse = np.sqrt(mse)
    rmsse = np.sqrt(mse / scale_sq[:, None])
    bias = err.sum(axis=2) / count / scale_abs[:, None]
    quantile = f + NormalDist().inv_cdf(tau) * rmse[:, :, None]
    miss = test_y - quantile
    loss = np.where(test_obs, np.maximum(tau * miss, (tau - 1) * miss), 0.0)
    pinball = loss.sum(axis=2) / count / scale_abs[:, None]
    return rmsse, bias, pinball, rmse


def forecast_series(
    demand: np.ndarray,
    censored: np.ndarray | None = None,
    *,
    horizon: int = 28,
    window: int = 56,
    service_level: float = 0.95,
) -> Forecasts:
    """Classify every series, backtest its class's candidates on the last ``window`` days, keep
    the one with the lowest RMSSE and forecast ``horizon`` days with it (module docstring).
    Raises ``ForecastInputError`` on arrays that do not fit, or a window that leaves fewer than
    ``WARM_UP_DAYS`` days to learn from."""
    y, observed = _check(demand, censored)
    n, days = y.shape
    if not 1 <= horizon <= 366:
        raise ForecastInputError("The horizon must be between 1 and 366 days.")
    if not 0.5 <= service_level < 1:
        raise ForecastInputError("The service level must be at least 0.5 and below 1.")
    if window < 1 or days - window < WARM_UP_DAYS:
        raise ForecastInputError(f"The test window must leave at least {WARM_UP_DAYS} days to learn from.")
    keep_from = days - window
    classes = classify(y, ~observed)
    out = {
        name: np.full(n, np.nan)
        for name in ("alpha", "beta", "gamma", "rmsse", "scaled_bias", "pinball", "sigma")
    }
    method = np.full(n, ZERO, dtype=np.int8)
    ahead = np.zeros((n, horizon))
    none = classes.klass == NO_DEMAND
    out["sigma"][none] = 0.0
    for group, build in (
        ((SMOOTH, ERRATIC), _smooth),
        ((INTERMITTENT, LUMPY), _intermittent),
    ):
        rows = np.flatnonzero(np.isin(classes.klass, group))
        if not rows.size:
            continue
        gy, gobs = y[rows], observed[rows]
        cands = build(gy, gobs, keep_from, horizon)
        fitted = np.concatenate(cands.fitted, axis=1)
        rmsse, bias, pinball, rmse = _scores(gy, gobs, fitted, keep_from, service_level)
        best = np.argmin(rmsse, axis=1)
        pick = np.arange(rows.size)
        params = np.array(cands.params)
        method[rows] = np.array(cands.method, dtype=np.int8)[best]
        out["alpha"][rows], out["beta"][rows], out["gamma"][rows] = params[best].T
        out["rmsse"][rows] = rmsse[pick, best]
        out["scaled_bias"][rows] = bias[pick, best]
        out["pinball"][rows] = pinball[pick, best]
        out["sigma"][rows] = rmse[pick, best]
        ahead[rows] = np.concatenate(cands.ahead, axis=1)[pick, best]
    return Forecasts(
        klass=classes.klass,
        adi=classes.adi,
        cv2=classes.cv2,
        method=method,
        forecast=np.maximum(ahead, 0.0),
        **out,
    )
