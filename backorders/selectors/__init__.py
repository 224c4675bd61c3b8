"""Every read that is more than a ``.get()``: what the storefront, the admin, the API and the
services ask of the data, without changing it (writes live in ``backorders.services``)."""
