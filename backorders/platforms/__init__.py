"""Platform adapters: each turns its platform's requests into plain values and service calls.

Nothing outside this package knows a platform exists (see ``shopify`` for the only one so far).
"""
