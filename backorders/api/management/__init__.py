"""The management API (v1): what a shop's own systems (an ERP, a script) change, with a per-shop
API token (``Authorization: Bearer bko_…``), created in the admin. Every id in a URL or body is
looked up within the token's shop: another shop's ids are 404, as unknown ones."""
