"""Safety stock, reorder points and order quantities against values worked out by hand."""

import math

import numpy as np
import pytest

from backorders.services.planning.policy import (
    PolicyInputError,
    k_cycle_service,
    k_fill_rate,
    lead_time_demand,
    normal_loss,
    order_quantities,
    reorder_levels,
)


def test_lead_time_demand_combines_demand_and_lead_time_variability():
    # d̄ = 4/day, σd = 2, L̄ = 9 days, σL = 3: μ = 36, σ = √(9·2² + 4²·3²) = √(36 + 144) = √180.
    # Without lead-time spread: σ = √(9·4) = 6; without demand spread: σ = 4·3 = 12.
    mean, sd = lead_time_demand(
        demand_mean=np.array([4.0, 4.0, 4.0]),
        demand_sd=np.array([2.0, 2.0, 0.0]),
        lead_time_mean=9.0,
        lead_time_sd=np.array([3.0, 0.0, 3.0]),
    )
    assert mean.tolist() == [36.0, 36.0, 36.0]
    assert sd == pytest.approx([math.sqrt(180), 6.0, 12.0], abs=1e-12)


def test_normal_loss_matches_its_definition():
    # G(0) = φ(0) = 1/√(2π) = 0.398942…; G(1) = φ(1) − (1 − Φ(1)) = 0.241971 − 0.158655 = 0.083315;
    # G(−1) = φ(1) + Φ(1) = 0.241971 + 0.841345 = 1.083315 (G(−k) = G(k) + k).
    assert normal_loss([0.0, 1.0, -1.0]) == pytest.approx([0.3989423, 0.0833155, 1.0833155], abs=1e-7)


def test_cycle_service_level_reorder_point():
    # CSL 95 %: z = 1.644854; μ = 36, σ = √180 = 13.416408: s = 36 + 1.644854 · 13.416408 = 58.068;
    # Q = 40: S = 98.068.
    k = k_cycle_service(0.95)
    s, big_s = reorder_levels(ltd_mean=36.0, ltd_sd=math.sqrt(180), k=k, cycle_quantity=40)
    assert float(k) == pytest.approx(1.6448536, abs=1e-7)
    assert float(s) == pytest.approx(58.0680, abs=1e-3)
    assert float(big_s) == pytest.approx(98.0680, abs=1e-3)


def test_fill_rate_safety_factor_solves_the_loss_equation():
    # β = 95 %, Q = 100, σ = 20: G(k) = 0.05 · 100 / 20 = 0.25; G(0.34) = 0.25610, G(0.35) = 0.25158
    # (tables), so k ≈ 0.3449. β = 99 %, Q = 50, σ = 25: G(k) = 0.02; G(1.66) = 0.10059 − 1.66 ·
    # 0.04846 = 0.02015, G(1.67) = 0.09893 − 1.67 · 0.04746 = 0.01967, so k ≈ 1.663.
    # A fill rate a single order covers without stock (G(k) = 0.05 · 400 / 10 = 2) gives k < 0:
    # G(−k) = k + G(k): G(−1.99) = 1.99 + 0.00872 = 1.99872, G(−2) = 2.00849, so k ≈ −1.9913.
    k = k_fill_rate(
        fill_rate=np.array([0.95, 0.99, 0.95]),
        order_quantity=np.array([100, 50, 400]),
        sd=np.array([20, 25, 10]),
    )
    assert k == pytest.approx([0.3449, 1.6631, -1.9913], abs=5e-4)
    assert normal_loss(k) == pytest.approx([0.25, 0.02, 2.0], abs=1e-6)


def test_fill_rate_without_uncertainty_needs_no_safety_stock():
    assert k_fill_rate(fill_rate=0.95, order_quantity=10, sd=0.0) == 0.0


def test_order_quantity_rounds_up_to_minimum_and_pack_and_counts_waiting_customers():
    # s = 20, S = 50 for every item.
    #  a: position 12 + 0 = 12 ≤ 20: 50 − 12 = 38, packs of 12 → 48.
    #  b: 3 customers waiting, nothing on hand: available −3, position −3: 53, minimum 60 → 60,
    #     packs of 25 → 75.
    #  c: position 15 + 10 on order = 25 > 20: nothing.
    #  d: exactly at the reorder point (20): 30, packs of 1 → 30.
    #  e: 49.5 → whole units: 50 − (0.5) = 49.5 → 50 (ceil), a pack of 1.
    q = order_quantities(
        available=np.array([12, -3, 15, 20, 0.5]),
        on_order=np.array([0, 0, 10, 0, 0]),
        reorder_point=20.0,
        order_up_to=50.0,
        minimum_order=np.array([1, 60, 1, 1, 1]),
        pack_size=np.array([12, 25, 1, 1, 1]),
    )
    assert q.tolist() == [48, 75, 0, 30, 50]


def test_a_pack_multiple_is_not_rounded_up_by_float_noise():
    # 50 − 14 = 36 = 3 packs of 12 exactly, even computed as 50.000000001 − 14.
    assert (
        order_quantities(available=14, on_order=0, reorder_point=20, order_up_to=50.000000001, pack_size=12)
        == 36
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: k_cycle_service(1.0),
        lambda: k_fill_rate(fill_rate=0.0, order_quantity=1, sd=1),
        lambda: lead_time_demand(demand_mean=1, demand_sd=-1, lead_time_mean=1, lead_time_sd=0),
        lambda: order_quantities(available=0, on_order=0, reorder_point=1, order_up_to=2, pack_size=0),
    ],
)
def test_out_of_range_inputs_are_refused(call):
    with pytest.raises(PolicyInputError):
        call()
