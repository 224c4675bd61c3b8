"""Generate the reference outputs of statsforecast's SES, Croston, SBA and TSB (run once).

The project does not depend on statsforecast; this script runs in its own environment:

    python3 -m venv /tmp/sf && /tmp/sf/bin/pip install statsforecast
    /tmp/sf/bin/python tests/services/planning/reference/generate.py

It writes ``statsforecast.json`` next to itself: the series (seeded, so the file can be
regenerated identically), and per series and method the next-day forecast and the in-sample
fitted values (NaN as null). ``tests/services/planning/test_reference.py`` reads it.
"""

import json
import math
from pathlib import Path

import numpy as np
import statsforecast
from statsforecast.models import TSB, CrostonClassic, CrostonSBA, SimpleExponentialSmoothing

SES_ALPHAS = (0.1, 0.3, 0.7)
TSB_PAIRS = ((0.1, 0.05), (0.3, 0.2))


def series() -> dict[str, list[float]]:
    rng = np.random.default_rng(20261202)
    out = {
        "smooth": rng.poisson(6.0, 120),
        "erratic": rng.poisson(2.0, 120) * rng.integers(1, 6, 120),
        "intermittent": rng.poisson(1.5, 200) * (rng.random(200) < 0.25),
        "lumpy": rng.integers(1, 40, 200) * (rng.random(200) < 0.12),
        "demand_on_first_day": np.array([3, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0, 0]),
        "one_demand": np.array([0, 0, 0, 0, 4, 0, 0, 0]),
    }
    return {name: [float(v) for v in values] for name, values in out.items()}


def clean(values) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in np.asarray(values, dtype=float)]


def run(model, y: np.ndarray) -> dict:
    res = model.forecast(y=y, h=1, fitted=True)
    return {"forecast": float(res["mean"][0]), "fitted": clean(res["fitted"])}


def main() -> None:
    cases = []
    for name, values in series().items():
        y = np.array(values, dtype=np.float64)
        methods = {f"ses_{a}": run(SimpleExponentialSmoothing(alpha=a), y) for a in SES_ALPHAS}
        methods["croston"] = run(CrostonClassic(), y)
        methods["sba"] = run(CrostonSBA(), y)
        for ad, ap in TSB_PAIRS:
            methods[f"tsb_{ad}_{ap}"] = run(TSB(alpha_d=ad, alpha_p=ap), y)
        cases.append({"name": name, "y": values, "methods": methods})
    out = {"statsforecast": statsforecast.__version__, "cases": cases}
    Path(__file__).with_name("statsforecast.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
