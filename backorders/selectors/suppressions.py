"""Whether an address may be emailed: the one place that reads suppressions.

Addresses are stored and compared lower-case. A suppression stops every kind of email (bounced,
complained, refused) or, for an unsubscribe, only the optional kinds
(``Suppression.Reason.blocking``).
"""

from collections.abc import Sequence

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower

from backorders.models import Suppression


def address_suppressed(*, shop_id: int, email: str, kind: str) -> bool:
    """Whether the shop must not send an email of ``kind`` to ``email`` (one query)."""
    return Suppression.objects.filter(
        shop_id=shop_id, email=email.strip().lower(), reason__in=Suppression.Reason.blocking(kind)
    ).exists()


def suppressions_of(*, shop: Combinable | str, email: Combinable | str) -> QuerySet[Suppression]:
    """The suppressions of an address, for use in a subquery: ``shop`` and ``email`` are usually
    ``OuterRef``s to the outer row's shop and address (compared lower-case)."""
    shop_ref = OuterRef(shop) if isinstance(shop, str) else shop
    email_ref = Lower(OuterRef(email)) if isinstance(email, str) else email
    return Suppression.objects.filter(shop=shop_ref, email=email_ref)


def suppression_exists(*, shop: str, email: str, reasons: Sequence[str] | None = None) -> Exists:
    """An ``Exists`` annotation: whether the outer row's address (field ``email``) has a
    suppression for its shop (field ``shop``), of ``reasons`` when given."""
    queryset = suppressions_of(shop=shop, email=email)
    if reasons is not None:
        queryset = queryset.filter(reason__in=reasons)
    return Exists(queryset)
