"""Orders, their backorders and the audit trail: read-only.

Every change to these rows has consequences (stock moves, the queue advances, customers are
told), so it happens only through the services: the backorder list's actions (cancel, mark as
shipped) and the backorder page's "move the ETA" call them as the admin user, and every change
lands in the audit trail. Marking as shipped asks first, on a page listing what will be shipped
and emailed and what is refused: only fully allocated backorders can ship from here. The list's
filters and the ETA form are in ``queue``; the backorder admin in ``backorders``.
"""

from backorders.admin.orders import backorders, orders  # noqa: F401  (registers the ModelAdmins)
