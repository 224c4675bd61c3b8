"""Planning: forecasts of daily demand (``forecast``) and the stock policy they feed (``policy``).

Pure computation on numpy arrays, vectorised over every variant of a shop; the demand itself is
read by ``backorders.selectors.demand``."""
