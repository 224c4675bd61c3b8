"""Safety stock, reorder points and order quantities: pure, vectorised over variants.

Every argument may be a scalar or an array of one value per variant (numpy broadcasting).
Units: demand in units per day, lead times in days.

Lead-time demand
    Over a lead time ``L`` (mean ``L̄``, spread ``σL``) of independent days with demand of mean
    ``d̄`` and spread ``σd``, demand has mean ``μ = d̄ · L̄`` and spread
    ``σ = √(L̄ · σd² + d̄² · σL²)`` (the first term is the day-to-day variability over the
    average lead time, the second the lead time's own variability at the average demand).

Reorder point ``s`` and order-up-to level ``S`` (a continuous-review (s, S) policy)
    ``s = μ + k · σ`` and ``S = s + Q`` with ``Q`` the order cycle's quantity (e.g. the demand of
    the review period, or the supplier's minimum). The safety factor ``k`` comes from the target:

    * **cycle service level** (the probability that a cycle ends without running out):
      ``k = Φ⁻¹(CSL)`` (``statistics.NormalDist``);
    * **fill rate** β (the share of demand served from stock): the expected units short per cycle
      are ``ESC = σ · G(k)`` with the standard normal loss function
      ``G(k) = φ(k) − k · (1 − Φ(k))``; ``k`` solves ``G(k) = (1 − β) · Q / σ``. ``G`` falls from
      +∞ to 0, so the root is read off a table of ``G`` by interpolation, all variants at once;
      ``k`` is bounded to [−4, 6] (a fill rate met without any safety stock gives ``k < 0``).

Inventory position and orders
    ``position = available + on order``. ``available`` is the platform's ``on hand − committed``
    and committed counts every unfulfilled ordered unit, backordered or not: backordered units
    waiting are already subtracted, i.e. counted as demand already due, and an item with 3
    customers waiting and nothing on hand has position −3. At or below ``s`` the order brings the
    position up to ``S``: ``max(S − position, 0)`` raised to the supplier's minimum order, then
    rounded up to a whole number of packs.
"""

import math
from statistics import NormalDist

import numpy as np

Array = np.ndarray | float

K_MIN, K_MAX = -4.0, 6.0
_NORMAL = NormalDist()


class PolicyInputError(ValueError):
    """A policy input is out of range (a service level outside (0, 1), a negative spread…)."""


def _array(value: Array | int, name: str, *, minimum: float = 0.0) -> np.ndarray:
    out = np.asarray(value, dtype=np.float64)
    if not np.isfinite(out).all() or (out < minimum).any():
        raise PolicyInputError(f"{name} must be finite and at least {minimum:g}.")
    return out


def lead_time_demand(
    *, demand_mean: Array, demand_sd: Array, lead_time_mean: Array, lead_time_sd: Array
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``d̄ · L̄`` and spread ``√(L̄ · σd² + d̄² · σL²)`` of demand over the lead time."""
    d = _array(demand_mean, "Mean daily demand")
    sd = _array(demand_sd, "Daily demand spread")
    lead = _array(lead_time_mean, "Mean lead time")
    lead_sd = _array(lead_time_sd, "Lead-time spread")
    return d * lead, np.sqrt(lead * sd**2 + d**2 * lead_sd**2)


def normal_loss(k: Array) -> np.ndarray:
    """The standard normal loss function ``G(k) = φ(k) − k · (1 − Φ(k))``: expected units short
    of a standard normal demand with ``k`` units of stock (exact, ``math.erfc`` per element)."""
    k = np.asarray(k, dtype=np.float64)
    tail = 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(k / math.sqrt(2))
    return np.exp(-0.5 * k**2) / math.sqrt(2 * math.pi) - k * tail


# G tabulated once on [K_MIN, K_MAX] (step 0.0005): inverting it by linear interpolation is
# vectorised and its error (≤ h²/8 · max G'' ≈ 1.3e-8 in G) is far below a unit of stock.
_K_TABLE = np.linspace(K_MIN, K_MAX, 20_001)
_G_TABLE = normal_loss(_K_TABLE)


def k_cycle_service(service_level: Array) -> np.ndarray:
    """Safety factor for a cycle service level: ``Φ⁻¹(CSL)``."""
    level = np.asarray(service_level, dtype=np.float64)
    if ((level <= 0) | (level >= 1)).any():
        raise PolicyInputError("A cycle service level must be between 0 and 1 (exclusive).")
    values, index = np.unique(level, return_inverse=True)  # shops use a handful of levels
    return np.array([_NORMAL.inv_cdf(v) for v in values])[index].reshape(level.shape)


def k_fill_rate(*, fill_rate: Array, order_quantity: Array, sd: Array) -> np.ndarray:
    """Safety factor for a fill rate β: the ``k`` with ``G(k) = (1 − β) · Q / σ`` for every
    variant at once, bounded to [K_MIN, K_MAX]. ``σ = 0`` (no uncertainty) gives 0."""
    beta = np.asarray(fill_rate, dtype=np.float64)
    if ((beta <= 0) | (beta >= 1)).any():
        raise PolicyInputError("A fill rate must be between 0 and 1 (exclusive).")
    q = _array(order_quantity, "Order quantity")
    sigma = _array(sd, "Lead-time demand spread")
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(sigma > 0, (1 - beta) * q / sigma, 0.0)
    # G decreases: interpolate on the reversed table (np.interp clamps to its ends).
    k = np.interp(target, _G_TABLE[::-1], _K_TABLE[::-1])
    return np.where(sigma > 0, k, 0.0)


def reorder_levels(
    *, ltd_mean: Array, ltd_sd: Array, k: Array, cycle_quantity: Array
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point ``s = μ + k · σ`` and order-up-to level ``S = s + Q`` (module docstring);
    ``ltd_mean`` and ``ltd_sd`` are ``lead_time_demand``'s μ and σ."""
    s = np.asarray(ltd_mean, dtype=np.float64) + np.asarray(k) * np.asarray(ltd_sd, dtype=np.float64)
    return s, s + _array(cycle_quantity, "Cycle quantity")


def order_quantities(
    *,
    available: Array,
    on_order: Array,
    reorder_point: Array,
    order_up_to: Array,
    minimum_order: Array = 1,
    pack_size: Array = 1,
) -> np.ndarray:
    """Units to order per variant (integers): 0 above the reorder point; else
    ``S − (available + on order)`` raised to ``minimum_order`` and rounded up to whole packs.
    ``available`` already counts backordered units waiting as demand due (module docstring)."""
    pack = _array(pack_size, "Pack size", minimum=1)
    minimum = _array(minimum_order, "Minimum order")
    position = np.asarray(available, dtype=np.float64) + _array(on_order, "Units on order")
    need = np.maximum(np.asarray(order_up_to, dtype=np.float64) - position, 0.0)
    need = np.where(position <= np.asarray(reorder_point, dtype=np.float64), np.maximum(need, minimum), 0.0)
    # Units are whole: the epsilon keeps 12.000000001 (float noise) from becoming a 13th unit.
    return (np.ceil(need / pack - 1e-9) * pack).astype(np.int64)
