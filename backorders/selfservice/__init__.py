"""The customer's self-service pages: their backorders, queue position, ETA history, cancelling,
and unsubscribing from optional emails. Reached only through signed links from our emails."""
