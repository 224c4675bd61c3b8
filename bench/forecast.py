"""Forecasts and reorder points for N variants × 730 days of synthetic demand (pure compute).

    .venv/bin/python bench/forecast.py [--variants 10000] [--days 730] [--seed 7] [--workers 1]

Generates, with a seeded generator, N series of every demand class (a quarter each: smooth with
a weekly pattern, some trending; erratic; intermittent; lumpy), with stock-out spells marked
censored on a tenth of them, then times each phase of what the daily run computes for a shop:
classification and forecasts (``forecast_series``: every candidate backtested over the last 56
days, the best kept), then lead-time demand, fill-rate safety factors, reorder points and order
quantities (``services.planning.policy``) from synthetic lead times. Prints each phase's wall
time, the peak of the memory allocated during the computation (tracemalloc, which numpy reports
to) and the process's peak resident size. The issue's target, at ``--variants 100000``:
compute ≤ 15 s and ≤ 2 GB. No database is used.
"""

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backorders.services.planning.forecast import CLASS_NAMES, METHOD_NAMES, forecast_series  # noqa: E402
from backorders.services.planning.policy import (  # noqa: E402
    k_fill_rate,
    lead_time_demand,
    order_quantities,
    reorder_levels,
)

BLOCK = 10_000


def synthetic(variants: int, days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Demand (float64) and censored mask for ``variants`` series, generated in blocks."""
    demand = np.empty((variants, days))
    censored = np.zeros((variants, days), dtype=bool)
    t = np.arange(days)
    for lo in range(0, variants, BLOCK):
        m = min(BLOCK, variants - lo)
        kind = rng.integers(0, 4, m)[:, None]
        rate = rng.lognormal(0.5, 0.8, m)[:, None]
        weekly = 1 + rng.uniform(0, 0.8, m)[:, None] * (t % 7 >= 5)
        trend = 1 + rng.choice([0.0, 0.0, 0.001, -0.0005], m)[:, None] * t
        smooth = rng.poisson(np.maximum(rate * 3 * weekly * trend, 0))
        erratic = rng.poisson(rate, (m, days)) * rng.integers(1, 8, (m, days))
        occurs = rng.random((m, days)) < rng.uniform(0.05, 0.4, m)[:, None]
        intermittent = occurs * rng.poisson(rate, (m, days)).clip(1)
        lumpy = occurs * rng.integers(1, 40, (m, days)) * (rng.random((m, days)) < 0.5)
        block = np.select([kind == 0, kind == 1, kind == 2], [smooth, erratic, intermittent], lumpy)
        # A tenth of the series sell out for 5–30 days once: those days are censored (zero demand).
        out = rng.random(m) < 0.1
        start = rng.integers(days // 4, days - 30, m)
        length = rng.integers(5, 30, m)
        spell = out[:, None] & (t >= start[:, None]) & (t < (start + length)[:, None])
        block[spell] = 0
        demand[lo : lo + m] = block
        censored[lo : lo + m] = spell
    return demand, censored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="threads over blocks of series")
    args, _ = parser.parse_known_args()  # `make bench` passes every script the same BENCH_ARGS
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    demand, censored = synthetic(args.variants, args.days, rng)
    lead_mean = rng.uniform(3, 30, args.variants)
    lead_sd = lead_mean * rng.uniform(0.1, 0.5, args.variants)
    available = rng.integers(-5, 60, args.variants).astype(np.float64)
    minimum = rng.choice([1, 10, 24, 50], args.variants)
    pack = rng.choice([1, 6, 12], args.variants)
    generated = time.perf_counter() - t0
    print(f"{args.variants:,} variants × {args.days} days generated in {generated:.1f} s (not counted)")

    def compute() -> tuple[dict[str, float], object, np.ndarray]:
        phases: dict[str, float] = {}
        t = time.perf_counter()
        forecasts = forecast_series(
            demand, censored, horizon=35, window=56, service_level=0.95, workers=args.workers
        )
        phases["forecasts (classify, backtest, choose, forecast)"] = time.perf_counter() - t

        t = time.perf_counter()
        # Mean daily demand over each variant's lead time (rounded up), from the forecast itself.
        cover = np.clip(np.ceil(lead_mean).astype(int), 1, forecasts.forecast.shape[1])
        total = np.cumsum(forecasts.forecast, axis=1)[np.arange(args.variants), cover - 1]
        daily = total / cover
        ltd_mean, ltd_sd = lead_time_demand(
            demand_mean=daily, demand_sd=forecasts.sigma, lead_time_mean=lead_mean, lead_time_sd=lead_sd
        )
        cycle = np.maximum(daily * 7, 1)  # a week's demand per order
        k = k_fill_rate(fill_rate=0.95, order_quantity=cycle, sd=ltd_sd)
        reorder_point, order_up_to = reorder_levels(
            ltd_mean=ltd_mean, ltd_sd=ltd_sd, k=k, cycle_quantity=cycle
        )
        orders = order_quantities(
            available=available,
            on_order=0,
            reorder_point=reorder_point,
            order_up_to=order_up_to,
            minimum_order=minimum,
            pack_size=pack,
        )
        phases["reorder points and order quantities"] = time.perf_counter() - t
        return phases, forecasts, orders

    resident_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    phases, forecasts, orders = compute()  # timed without tracemalloc, which slows numpy's allocations
    resident_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    tracemalloc.start()
    compute()  # a second run, for the memory it allocates
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    for name, seconds in phases.items():
        print(f"  {name:<52} {seconds:7.2f} s")
    print(f"  {'compute total':<52} {sum(phases.values()):7.2f} s")
    print(f"peak memory allocated while computing: {peak / 2**20:,.0f} MiB (tracemalloc, second run)")
    print(
        f"peak resident size: {resident_before:,.0f} MiB with the input, {resident_after:,.0f} MiB computed"
    )
    classes = np.bincount(forecasts.klass, minlength=len(CLASS_NAMES))
    methods = np.bincount(forecasts.method, minlength=len(METHOD_NAMES))
    print(
        "classes: " + ", ".join(f"{name} {count:,}" for name, count in zip(CLASS_NAMES, classes, strict=True))
    )
    print(
        "methods: "
        + ", ".join(f"{name} {count:,}" for name, count in zip(METHOD_NAMES, methods, strict=True))
    )
    print(
        f"median RMSSE {np.nanmedian(forecasts.rmsse):.3f}; variants to order today: {(orders > 0).sum():,}"
    )


if __name__ == "__main__":
    main()
