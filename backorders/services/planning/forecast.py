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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND = range(5)
CLASS_NAMES = ("smooth", "erratic", "intermittent", "lumpy", "no demand")

SES, SEASONAL, CROSTON, SBA, TSB, ZERO = range(6)
METHOD_NAMES = ("SES", "seasonal ES", "Croston", "SBA", "TSB", "zero")

SES_GRID = (0.05, 0.1, 0.2, 0.4)
CROSTON_GRID = (0.05, 0.1, 0.2, 0.3)
TSB_GRID = ((0.1, 0.05), (0.1, 0.1), (0.2, 0.1), (0.1, 0.2), (0.3, 0.3))  # (α_d, α_p)
SEASONAL_GRID = tuple((a, b, 0.1) for a in (0.1, 0.3) for b in (0.0, 0.05))  # (α, β, γ)
PERIOD = 7
#: Series computed together: a block's states stay in the processor's cache, its temporaries small.
BLOCK = 4096
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
    if not np.isfinite(y).all() or (y < 0).any():
        raise ForecastInputError("Daily demand must be finite and not negative.")
    # Not copied (100,000 series × 730 days are 584 MB): every use of a day's value is
    # multiplied by, or selected with, its observed flag, so a censored day's value is never read.
    return y, ~mask


def classify(demand: np.ndarray, censored: np.ndarray | None = None) -> Classification:
    """Syntetos–Boylan class of each series over its observed days (module docstring)."""
    y, observed = _check(demand, censored)
    n = y.shape[0]
    adi, cv2 = np.empty(n), np.empty(n)
    for lo in range(0, n, BLOCK):  # blocks of series bound the temporaries' memory
        by, bo = y[lo : lo + BLOCK], observed[lo : lo + BLOCK]
        positive = (by > 0) & bo
        n_obs = bo.sum(axis=1)
        n_pos = positive.sum(axis=1)
        sizes = np.where(positive, by, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            adi[lo : lo + BLOCK] = np.where(n_pos > 0, n_obs / np.maximum(n_pos, 1), np.inf)
            mean = sizes.sum(axis=1) / n_pos
            var = (np.where(positive, sizes - mean[:, None], 0.0) ** 2).sum(axis=1) / n_pos
            cv2[lo : lo + BLOCK] = var / mean**2
    frequent, steady = adi < ADI_CUTOFF, cv2 < CV2_CUTOFF
    klass = np.select(
        [~np.isfinite(adi), frequent & steady, frequent, steady],
        [NO_DEMAND, SMOOTH, ERRATIC, INTERMITTENT],
        LUMPY,
    ).astype(np.int8)
    return Classification(adi=adi, cv2=cv2, klass=klass)


# --- The filters: one pass over the days, all series of a block and all constants at once. ----
# Arrays are day-major (days × series) so that each day is one contiguous row; censoring enters
# as a factor (a censored day's update is multiplied by 0), so no step needs a branch. Each
# filter starts its states at their first value (statsforecast's initialisation), so applying
# the update on that first day changes nothing; ``_Starts`` knows where each series begins.


@dataclass(frozen=True)
class _Starts:
    """Per series: the first observed day and value, the first demand day, size and interval."""

    first_obs: np.ndarray  # (m,) day index, ``days`` when never observed
    first_value: np.ndarray
    first_indicator: np.ndarray
    first_demand: np.ndarray  # (m,) day index, ``days`` without demand
    first_size: np.ndarray
    first_interval: np.ndarray

    @classmethod
    def of(cls, yt: np.ndarray, ot: np.ndarray) -> "_Starts":
        days, m = yt.shape
        cols = np.arange(m)
        first_obs = np.where(ot.any(axis=0), ot.argmax(axis=0), days)
        hits = ot & (yt > 0)
        first_demand = np.where(hits.any(axis=0), hits.argmax(axis=0), days)
        safe_obs, safe_dem = np.minimum(first_obs, days - 1), np.minimum(first_demand, days - 1)
        seen = np.cumsum(ot, axis=0, dtype=np.int32)[safe_dem, cols]
        return cls(
            first_obs=first_obs,
            first_value=np.where(first_obs < days, yt[safe_obs, cols], 0.0),
            first_indicator=np.where(first_obs < days, yt[safe_obs, cols] > 0, 0.0),
            first_demand=first_demand,
            first_size=np.where(first_demand < days, yt[safe_dem, cols], 0.0),
            first_interval=np.where(first_demand < days, seen, 1.0),
        )

    def mask(self, fitted: np.ndarray, keep_from: int, *, before_demand_zero: bool) -> np.ndarray:
        """NaN where nothing was observed before the day; 0 before the first demand (Croston,
        TSB). ``fitted`` is (window days, m, k), changed in place and returned."""
        t = np.arange(keep_from, keep_from + fitted.shape[0])[:, None]
        if before_demand_zero:
            fitted[t <= self.first_demand[None, :]] = 0.0
        fitted[t <= self.first_obs[None, :]] = np.nan
        return fitted


def _ses_pass(
    yt: np.ndarray, ot: np.ndarray, alphas: np.ndarray, keep_from: int, starts: _Starts
) -> tuple[np.ndarray, np.ndarray]:
    """SES levels: (fitted of days keep_from… as (window, m, k), the level after the last day)."""
    days, m = yt.shape
    level = np.repeat(starts.first_value[:, None], alphas.size, axis=1).astype(yt.dtype)
    alphas = alphas.astype(yt.dtype)
    fitted = np.empty((days - keep_from, m, alphas.size), dtype=yt.dtype)
    step, gain = np.empty_like(level), np.empty_like(level)
    obs = ot.astype(yt.dtype)
    for t in range(days):
        if t >= keep_from:
            fitted[t - keep_from] = level
        np.subtract(yt[t][:, None], level, out=step)
        np.multiply(obs[t][:, None], alphas, out=gain)
        step *= gain
        level += step
    return starts.mask(fitted, keep_from, before_demand_zero=False), level


def _croston_pass(
    yt: np.ndarray, ot: np.ndarray, alphas: np.ndarray, keep_from: int, starts: _Starts
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Croston's size and interval levels (SES of the non-zero sizes and of the intervals):
    (sizes and intervals before each window day as (window, m, k) each, both after the last day).
    Starts as ``_Starts.of`` says; ``_Starts.mask`` turns z / p into fitted values."""
    days, m = yt.shape
    size = np.repeat(starts.first_size[:, None], alphas.size, axis=1).astype(yt.dtype)
    interval = np.repeat(starts.first_interval[:, None], alphas.size, axis=1).astype(yt.dtype)
    alphas = alphas.astype(yt.dtype)
    since = np.zeros(m, dtype=yt.dtype)
    sizes = np.empty((days - keep_from, m, alphas.size), dtype=yt.dtype)
    intervals = np.empty_like(sizes)
    step, gain = np.empty_like(size), np.empty_like(size)
    obs = ot.astype(yt.dtype)
    hits = ot & (yt > 0)
    hit, miss = hits.astype(yt.dtype), (~hits).astype(yt.dtype)
    for t in range(days):
        if t >= keep_from:
            sizes[t - keep_from] = size
            intervals[t - keep_from] = interval
        since += obs[t]
        np.multiply(hit[t][:, None], alphas, out=gain)
        np.subtract(yt[t][:, None], size, out=step)
        step *= gain
        size += step
        np.subtract(since[:, None], interval, out=step)
        step *= gain
        interval += step
        since *= miss[t]
    return sizes, intervals, size, interval


def _probability_pass(
    yt: np.ndarray, ot: np.ndarray, alphas: np.ndarray, keep_from: int, starts: _Starts
) -> tuple[np.ndarray, np.ndarray]:
    """TSB's demand probability (SES of the indicator on observed days): (window, m, k), final."""
    days, m = yt.shape
    prob = np.repeat(starts.first_indicator[:, None], alphas.size, axis=1).astype(yt.dtype)
    alphas = alphas.astype(yt.dtype)
    fitted = np.empty((days - keep_from, m, alphas.size), dtype=yt.dtype)
    step, gain = np.empty_like(prob), np.empty_like(prob)
    obs, indicator = ot.astype(yt.dtype), (yt > 0).astype(yt.dtype)
    for t in range(days):
        if t >= keep_from:
            fitted[t - keep_from] = prob
        np.subtract(indicator[t][:, None], prob, out=step)
        np.multiply(obs[t][:, None], alphas, out=gain)
        step *= gain
        prob += step
    return fitted, prob


def _seasonal_pass(
    yt: np.ndarray, ot: np.ndarray, params: np.ndarray, keep_from: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Additive Holt–Winters, weekly period, in error-correction form (``e = y − l − b − s``;
    ``l ← l + b + αe``, ``b ← b + αβe``, ``s ← s + γ(1 − α)e``, the standard recursions);
    ``params`` is (k, 3) of (α, β, γ). A censored day has ``e = 0``: the level moves by the trend."""
    days, m = yt.shape
    params = params.astype(yt.dtype)
    alpha, beta, gamma = params[:, 0], params[:, 1], params[:, 2]
    head_y, head_obs = yt[:WARM_UP_DAYS], ot[:WARM_UP_DAYS]
    with np.errstate(invalid="ignore"):
        base = np.nan_to_num(np.where(head_obs, head_y, 0).sum(axis=0) / head_obs.sum(axis=0))
    k = params.shape[0]
    season = np.zeros((PERIOD, m, k), dtype=yt.dtype)
    for d in range(PERIOD):  # seven weekdays, not series
        rows_y, rows_o = head_y[d::PERIOD], head_obs[d::PERIOD]
        count = rows_o.sum(axis=0)
        mean = np.where(rows_o, rows_y, 0).sum(axis=0) / np.maximum(count, 1)
        season[d] = np.where(count > 0, mean - base, 0.0)[:, None]
    level = np.repeat(base[:, None], k, axis=1)
    level = level.astype(yt.dtype)
    trend = np.zeros((m, k), dtype=yt.dtype)
    fitted = np.empty((days - keep_from, m, k), dtype=yt.dtype)
    err, tmp = np.empty((m, k), dtype=yt.dtype), np.empty((m, k), dtype=yt.dtype)
    obs = ot.astype(yt.dtype)
    ab, ga = alpha * beta, gamma * (1 - alpha)
    for t in range(days):
        s = season[t % PERIOD]
        level += trend
        if t >= keep_from:
            np.add(level, s, out=fitted[t - keep_from])
        np.subtract(yt[t][:, None], level, out=err)
        err -= s
        err *= obs[t][:, None]
        np.multiply(err, alpha, out=tmp)
        level += tmp
        np.multiply(err, ab, out=tmp)
        trend += tmp
        np.multiply(err, ga, out=tmp)
        s += tmp
    return fitted, (level, trend, season)


def _day_major(demand: np.ndarray, censored: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    y, observed = _check(demand, censored)
    return np.ascontiguousarray(y.T), np.ascontiguousarray(observed.T)


# --- The reference-comparable methods (whole fitted series and the next-day forecast). ---------


def ses(
    demand: np.ndarray, alpha: float, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Simple exponential smoothing of each series: (forecast (n,), fitted (n, days))."""
    yt, ot = _day_major(demand, censored)
    fitted, level = _ses_pass(yt, ot, np.array([alpha]), 0, _Starts.of(yt, ot))
    return level[:, 0], fitted[:, :, 0].T


def croston(
    demand: np.ndarray, alpha: float = 0.1, *, sba: bool = False, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Croston's method (``sba``: with the Syntetos–Boylan correction ``1 − α/2``): (forecast,
    fitted). A series without demand forecasts 0."""
    yt, ot = _day_major(demand, censored)
    starts = _Starts.of(yt, ot)
    sizes, intervals, size, interval = _croston_pass(yt, ot, np.array([alpha]), 0, starts)
    fitted = starts.mask(sizes / intervals, 0, before_demand_zero=True)
    factor = 1 - alpha / 2 if sba else 1.0
    forecast = np.where(starts.first_demand < yt.shape[0], size[:, 0] / interval[:, 0], 0.0)
    return forecast * factor, fitted[:, :, 0].T * factor


def tsb(
    demand: np.ndarray, alpha_d: float, alpha_p: float, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Teunter–Syntetos–Babai: (forecast, fitted). A series without demand forecasts 0."""
    yt, ot = _day_major(demand, censored)
    starts = _Starts.of(yt, ot)
    sizes, _, size, _ = _croston_pass(yt, ot, np.array([alpha_d]), 0, starts)
    probs, prob = _probability_pass(yt, ot, np.array([alpha_p]), 0, starts)
    fitted = starts.mask(probs * sizes, 0, before_demand_zero=True)
    sized = np.where(starts.first_demand < yt.shape[0], size[:, 0], 0.0)
    return prob[:, 0] * sized, fitted[:, :, 0].T


# --- Choosing and forecasting. -----------------------------------------------------------------


@dataclass
class _Candidates:
    method: list[int]
    params: list[tuple[float, float, float]]
    fitted: list[np.ndarray]  # each (window, m, k_i)
    ahead: list[np.ndarray]  # each (m, k_i, horizon)


def _intermittent(yt: np.ndarray, ot: np.ndarray, keep_from: int, horizon: int) -> _Candidates:
    starts = _Starts.of(yt, ot)
    alphas = np.array(CROSTON_GRID)
    sizes, intervals, size, interval = _croston_pass(yt, ot, alphas, keep_from, starts)
    fitted = starts.mask(sizes / intervals, keep_from, before_demand_zero=True)
    has_demand = (starts.first_demand < yt.shape[0])[:, None]
    flat = np.where(has_demand, size / interval, 0.0)
    sba = 1 - alphas / 2
    p_alphas = sorted({p for _, p in TSB_GRID})
    probs, prob = _probability_pass(yt, ot, np.array(p_alphas), keep_from, starts)
    d_index = [CROSTON_GRID.index(a) for a, _ in TSB_GRID]  # TSB's sizes are Croston's
    p_index = [p_alphas.index(p) for _, p in TSB_GRID]
    tsb_fitted = starts.mask(probs[:, :, p_index] * sizes[:, :, d_index], keep_from, before_demand_zero=True)
    tsb_flat = prob[:, p_index] * np.where(has_demand, size[:, d_index], 0.0)
    nan = float("nan")

    def repeat(values: np.ndarray) -> np.ndarray:
        return np.repeat(values[:, :, None], horizon, axis=2)

    return _Candidates(
        method=[CROSTON] * alphas.size + [SBA] * alphas.size + [TSB] * len(TSB_GRID),
        params=[(a, nan, nan) for a in CROSTON_GRID] * 2 + [(a, p, nan) for a, p in TSB_GRID],
        fitted=[fitted, fitted * sba, tsb_fitted],
        ahead=[repeat(flat), repeat(flat * sba), repeat(tsb_flat)],
    )


def _smooth(yt: np.ndarray, ot: np.ndarray, keep_from: int, horizon: int) -> _Candidates:
    starts = _Starts.of(yt, ot)
    fitted, level = _ses_pass(yt, ot, np.array(SES_GRID), keep_from, starts)
    params = np.array(SEASONAL_GRID)
    s_fitted, (s_level, s_trend, s_season) = _seasonal_pass(yt, ot, params, keep_from)
    days = yt.shape[0]
    steps = np.arange(1, horizon + 1)
    weekday = (days - 1 + steps) % PERIOD
    seasonal_ahead = s_level[:, :, None] + s_trend[:, :, None] * steps + s_season[weekday].transpose(1, 2, 0)
    nan = float("nan")
    return _Candidates(
        method=[SES] * len(SES_GRID) + [SEASONAL] * params.shape[0],
        params=[(a, nan, nan) for a in SES_GRID] + [(a, b, g) for a, b, g in SEASONAL_GRID],
        fitted=[fitted, s_fitted],
        ahead=[np.repeat(level[:, :, None], horizon, axis=2), seasonal_ahead],
    )


def _scores(
    yt: np.ndarray, ot: np.ndarray, fitted: np.ndarray, keep_from: int, tau: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """RMSSE, scaled bias, scaled pinball loss and RMSE of every candidate: each (m, k)."""
    train_y, train_obs = yt[:keep_from], ot[:keep_from]
    pairs = train_obs[1:] & train_obs[:-1]
    step = np.diff(train_y, axis=0)
    step *= pairs
    n_pairs = np.maximum(pairs.sum(axis=0), 1)
    scale_sq = np.einsum("tm,tm->m", step, step, dtype=np.float64) / n_pairs
    scale_abs = np.abs(step).sum(axis=0, dtype=np.float64) / n_pairs
    # A series that never changed before the test (e.g. all zero): scale by its level, else 1.
    level = np.einsum("tm,tm->m", train_y, train_obs.astype(yt.dtype), dtype=np.float64)
    level /= np.maximum(train_obs.sum(axis=0), 1)
    scale_sq = np.where(scale_sq > 0, scale_sq, np.where(level > 0, level**2, 1.0))
    scale_abs = np.where(scale_abs > 0, scale_abs, np.where(level > 0, level, 1.0))

    test_y, test_obs = yt[keep_from:, :, None], ot[keep_from:, :, None].astype(yt.dtype)
    err = np.nan_to_num(fitted, copy=False)
    err -= test_y
    err *= test_obs  # f − y on observed test days, 0 elsewhere
    count = np.maximum(test_obs.sum(axis=0), 1)
    mse = np.einsum("tmk,tmk->mk", err, err, dtype=np.float64) / count
    rmse = np.sqrt(mse)
    rmsse = np.sqrt(mse / scale_sq[:, None])
    bias = err.sum(axis=0, dtype=np.float64) / count / scale_abs[:, None]
    # y − q with q = f + z_τ · rmse; the pinball loss of q, on observed days only.
    miss = np.negative(err)
    miss -= (NormalDist().inv_cdf(tau) * rmse).astype(yt.dtype)
    loss = np.maximum(tau * miss, (tau - 1) * miss)
    loss *= test_obs
    pinball = loss.sum(axis=0, dtype=np.float64) / count / scale_abs[:, None]
    return rmsse, bias, pinball, rmse


def forecast_series(
    demand: np.ndarray,
    censored: np.ndarray | None = None,
    *,
    horizon: int = 28,
    window: int = 56,
    service_level: float = 0.95,
    workers: int = 1,
) -> Forecasts:
    """Classify every series, backtest its class's candidates on the last ``window`` days, keep
    the one with the lowest RMSSE and forecast ``horizon`` days with it (module docstring).
    Series are processed in blocks of ``BLOCK`` (vectorised within a block), on ``workers``
    threads (the answer does not depend on it). Raises
    ``ForecastInputError`` on arrays that do not fit, or a window that leaves fewer than
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
    out = {name: np.full(n, np.nan) for name in ("alpha", "beta", "gamma", "rmsse", "scaled_bias", "pinball")}
    out["sigma"] = np.zeros(n)
    method = np.full(n, ZERO, dtype=np.int8)
    ahead = np.zeros((n, horizon))

    def run(rows: np.ndarray, build: Callable[[np.ndarray, np.ndarray, int, int], _Candidates]) -> None:
        # float32 inside a block: half the memory traffic; the choice and forecast do not need more.
        yt = np.ascontiguousarray(y[rows].T, dtype=np.float32)
        ot = np.ascontiguousarray(observed[rows].T)
        cands = build(yt, ot, keep_from, horizon)
        fitted = np.concatenate(cands.fitted, axis=2)
        rmsse, bias, pinball, rmse = _scores(yt, ot, fitted, keep_from, service_level)
        best = np.argmin(rmsse, axis=1)
        pick = np.arange(rows.size)
        params = np.array(cands.params)
        # Blocks write disjoint rows, so blocks may run on several threads.
        method[rows] = np.array(cands.method, dtype=np.int8)[best]
        out["alpha"][rows], out["beta"][rows], out["gamma"][rows] = params[best].T
        out["rmsse"][rows] = rmsse[pick, best]
        out["scaled_bias"][rows] = bias[pick, best]
        out["pinball"][rows] = pinball[pick, best]
        out["sigma"][rows] = rmse[pick, best]
        ahead[rows] = np.concatenate(cands.ahead, axis=1)[pick, best]

    blocks = []
    for group, build in (((SMOOTH, ERRATIC), _smooth), ((INTERMITTENT, LUMPY), _intermittent)):
        members = np.flatnonzero(np.isin(classes.klass, group))
        blocks += [(members[lo : lo + BLOCK], build) for lo in range(0, members.size, BLOCK)]
    if workers <= 1:
        for rows, build in blocks:
            run(rows, build)
    else:
        # numpy releases the GIL inside its loops: blocks on threads use several cores.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda block: run(*block), blocks))
    return Forecasts(
        klass=classes.klass,
        adi=classes.adi,
        cv2=classes.cv2,
        method=method,
        forecast=np.maximum(ahead, 0.0),
        **out,
    )
