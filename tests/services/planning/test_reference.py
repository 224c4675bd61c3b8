"""Our SES, Croston, SBA and TSB against statsforecast's outputs on the same series and constants
(``reference/statsforecast.json``, written once by ``reference/generate.py``), to 1e-6."""

import json
from pathlib import Path

import numpy as np
import pytest

from backorders.services.planning.forecast import croston, ses, tsb

REFERENCE = json.loads((Path(__file__).parent / "reference" / "statsforecast.json").read_text())
CASES = [(case["name"], name, case) for case in REFERENCE["cases"] for name in case["methods"]]


def ours(name: str, y: np.ndarray, censored: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    if name.startswith("ses_"):
        return ses(y, float(name.removeprefix("ses_")), censored)
    if name in ("croston", "sba"):
        return croston(y, 0.1, sba=name == "sba", censored=censored)
    _, alpha_d, alpha_p = name.split("_")
    return tsb(y, float(alpha_d), float(alpha_p), censored)


def expected(case: dict, name: str) -> tuple[float, np.ndarray]:
    ref = case["methods"][name]
    return ref["forecast"], np.array([np.nan if v is None else v for v in ref["fitted"]])


def test_the_reference_covers_every_method_and_class():
    names = {name for _, name, _ in CASES}
    assert {"croston", "sba", "ses_0.1", "ses_0.7", "tsb_0.1_0.05", "tsb_0.3_0.2"} <= names
    assert {c["name"] for c in REFERENCE["cases"]} >= {"smooth", "erratic", "intermittent", "lumpy"}


@pytest.mark.parametrize(("series", "name", "case"), CASES, ids=[f"{s}-{n}" for s, n, _ in CASES])
def test_matches_statsforecast(series, name, case):
    y = np.array(case["y"])
    forecast, fitted = ours(name, y)
    ref_forecast, ref_fitted = expected(case, name)
    assert forecast[0] == pytest.approx(ref_forecast, abs=1e-6)
    np.testing.assert_allclose(fitted[0], ref_fitted, atol=1e-6, rtol=0)  # NaN where theirs is NaN


@pytest.mark.parametrize(("series", "name", "case"), CASES, ids=[f"{s}-{n}" for s, n, _ in CASES])
def test_censored_days_are_removed_from_the_series(series, name, case):
    """Days marked censored (with any value on them) change nothing: the result is statsforecast's
    on the series without them, fitted values included, wherever the day is observed."""
    y = np.array(case["y"])
    rng = np.random.default_rng(len(y))
    inserted = np.sort(rng.choice(np.arange(1, len(y)), size=max(2, len(y) // 5), replace=False))
    at = inserted + np.arange(inserted.size)  # where the censored days land in the longer series
    longer = np.insert(y, inserted, 99.0)
    censored = np.zeros(longer.size, dtype=bool)
    censored[at] = True
    # Also a censored day before the first observation: the series starts one day later.
    longer, censored = np.insert(longer, 0, 7.0), np.insert(censored, 0, True)
    forecast, fitted = ours(name, longer, censored)
    ref_forecast, ref_fitted = expected(case, name)
    assert forecast[0] == pytest.approx(ref_forecast, abs=1e-6)
    np.testing.assert_allclose(fitted[0][~censored], ref_fitted, atol=1e-6, rtol=0)


def test_all_series_at_once_equal_each_alone():
    cases = REFERENCE["cases"]
    length = min(len(c["y"]) for c in cases)
    stacked = np.array([c["y"][:length] for c in cases])
    together, _ = tsb(stacked, 0.3, 0.2)
    alone = [tsb(np.array(c["y"][:length]), 0.3, 0.2)[0][0] for c in cases]
    assert together == pytest.approx(alone, abs=1e-12)
    assert len(set(np.round(together, 6))) == len(cases)  # different series, different answers
