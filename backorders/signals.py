"""Outward signals for host code. The app's own workflow never depends on them.

All are sent after the transaction that caused them commits (never for a rolled-back change),
with ``sender=Backorder``.
"""

from django.dispatch import Signal

# A backorder was created. Arguments: backorder (Backorder), actor (services.audit.Actor).
backorder_created = Signal()

# A backorder's status changed. Arguments: backorder, old_status (str), new_status (str), actor.
backorder_status_changed = Signal()

# A backorder's current ETA changed. Arguments: backorder, old_eta (date | None),
# new_eta (date | None), source (str, an EtaSource value), actor.
backorder_eta_changed = Signal()

# A backorder was cancelled, by anyone. Arguments: backorder, actor (services.audit.Actor: the
# platform, the store, the owner in the admin or the customer), reason (str). Cancellations made
# here (actor not the platform) are the ones a platform write-back would report.
backorder_cancelled = Signal()
