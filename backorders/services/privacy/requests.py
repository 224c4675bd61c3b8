"""A customer's data request, answered with everything we hold about them."""

import logging
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from backorders.models import CustomerDataRequest, Shop
from backorders.selectors.privacy import customer_data_export, customer_orders
from backorders.services.privacy.finding import customer_deliveries_about

logger = logging.getLogger(__name__)


@transaction.atomic
def customer_data_request_record(
    *,
    shop: Shop,
    email: str,
    order_ids: Sequence[int],
    request_id: int | None = None,
    customer_id: int | None = None,
) -> CustomerDataRequest:
    """Answer a platform data request: assemble the customer's data (``customer_data_export``,
    with the stored webhook bodies about them from ``customer_deliveries_about``) and keep it for
    the owner to download in the admin. The row is the record that the request was answered;
    the same request id twice gives the same row."""
    if request_id is not None:
        existing = CustomerDataRequest.objects.filter(shop=shop, platform_request_id=request_id).first()
        if existing is not None:
            return existing
    orders = list(
        customer_orders(shop=shop, email=email, order_ids=order_ids).values_list("platform_id", flat=True)
    )
    deliveries = customer_deliveries_about(
        shop=shop,
        email=email,
        order_ids=[pid for pid in orders if pid is not None] + list(order_ids),
        customer_id=customer_id,
    )
    export = customer_data_export(
        shop=shop, email=email, order_ids=order_ids, customer_id=customer_id, deliveries=deliveries
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate fails only this
            request = CustomerDataRequest.objects.create(
                shop=shop,
                platform_request_id=request_id,
                customer_platform_id=customer_id,
                customer_email=email[:254],
                orders_requested=list(order_ids),
                export=export,
            )
    except IntegrityError:
        return CustomerDataRequest.objects.get(shop=shop, platform_request_id=request_id)
    logger.info("customer data request %s answered for shop %s", request_id or request.pk, shop.domain)
    return request
