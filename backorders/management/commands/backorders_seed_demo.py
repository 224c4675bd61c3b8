"""``manage.py backorders_seed_demo``: a demo shop with a catalog, stock, past orders and a login.

Idempotent: the data has fixed platform ids, so a second run finds what the first created and
creates nothing new. Everything goes through the services a real store uses (``shop_upsert``,
``product_upsert``, ``stock_set_available``, ``order_record``); what was seeded once (the owner's
policy fields, the opening stock, deliveries) is not reapplied, so that edits made in the admin
survive a re-run and stock is never counted twice.

It creates a superuser with a published password, so it refuses to run unless DEBUG is on.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from backorders.management.commands import _demo_catalog as demo
from backorders.models import Backorder, InventoryLevel, Location, Product, Shop, Variant
from backorders.services.alternatives import alternatives_refresh
from backorders.services.audit import Actor
from backorders.services.catalog import (
    ProductData,
    VariantData,
    location_get_or_create,
    product_set_policy,
    product_upsert,
    variant_set_policy,
)
from backorders.services.checkout import LineInput, order_record
from backorders.services.shops import shop_upsert
from backorders.services.stock import stock_set_available

ACTOR = Actor.system("demo seed")


class Command(BaseCommand):
    help = "Create (or complete) the demo shop, its catalog, stock and past orders, and a demo admin login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (it creates a superuser with a published password).",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "The demo seed creates the superuser 'demo' with a published password, so it runs only "
                "with DEBUG=true. Use --force to seed a throwaway database anyway."
            )
        now = timezone.now()
        # The demo replays days of history at once: each order's confirmation goes out when the
        # order is recorded, as it would have then, not held for the grace period that protects
        # live orders from stock arriving a moment later (no beat runs in the demo to send it).
        history = {**getattr(settings, "BACKORDERS", {}), "CONFIRMATION_GRACE_SECONDS": 0}
        with override_settings(BACKORDERS=history):
            with transaction.atomic():  # orders first, committed: their confirmations leave
                shop = _seed_shop()
                locations = _seed_locations(shop)
                new_products = _seed_catalog(shop, now)
                stocked = _seed_stock(shop, locations)
                _seed_orders(shop, now)
            with transaction.atomic():  # then the stock that came in after them
                _seed_deliveries(shop, locations[0], stocked)
                user_created = _seed_admin_user()
            # Every product's alternatives, ranked now (not left to a worker the demo may lack).
            alternatives_refresh(shop_id=shop.pk)
        self._report(shop, new_products, user_created)

    def _report(self, shop: Shop, new_products: int, user_created: bool) -> None:
        backorders = Backorder.objects.filter(shop=shop).aggregate(
            total=Count("pk"),
            waiting=Count("pk", filter=Q(status=Backorder.Status.WAITING)),
            allocated=Count("pk", filter=Q(status=Backorder.Status.ALLOCATED)),
            flagged=Count("pk", filter=Q(flagged=True)),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop {shop.name} ({shop.domain}): "
                f"{shop.products.count()} products ({new_products} new), {shop.variants.count()} variants, "
                f"{shop.locations.count()} locations, {shop.orders.count()} orders, "
                f"{backorders['total']} backorders ({backorders['waiting']} waiting, "
                f"{backorders['allocated']} allocated, {backorders['flagged']} flagged)."
            )
        )
        # The standalone project's SITE_URL; a host project without one gets the runserver default.
        site = getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
        verb = "created" if user_created else "password reset"
        self.stdout.write(f"Admin:      {site}{reverse('admin:index')}")
        self.stdout.write(f"Login:      {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}  ({verb})")
        self.stdout.write(f"Variants:   {site}{reverse('admin:backorders_variant_changelist')}")
        self.stdout.write(f"Backorders: {site}{reverse('admin:backorders_backorder_changelist')}")
        # The standalone project's demo store (a host project has its own pages).
        if getattr(settings, "STORE_SHOP_DOMAIN", None) == shop.domain:
            self.stdout.write(f"Store:      {site}/store/")
            for state, handle in demo.STATE_EXAMPLES.items():
                self.stdout.write(f"  {state + ':':<14}{site}/store/products/{handle}/")


def _seed_shop() -> Shop:
    exists = Shop.objects.filter(domain=demo.SHOP_DOMAIN).exists()
    shop, _created = shop_upsert(
        domain=demo.SHOP_DOMAIN,
        name=demo.SHOP_NAME,
        owner_email=demo.SHOP_OWNER_EMAIL,
        **({} if exists else demo.SHOP_SETTINGS),
    )
    return shop


def _seed_locations(shop: Shop) -> list[Location]:
    return [
        location_get_or_create(
            shop=shop, platform_id=demo.LOCATION_ID_BASE + location.number, name=location.name
        )
        for location in demo.LOCATIONS
    ]


def _seed_catalog(shop: Shop, now: datetime) -> int:
    """Upsert every product; set the owner's policy fields on what is seen for the first time.

    Returns the number of products created.
    """
    known_products = set(Product.objects.filter(shop=shop).values_list("platform_id", flat=True))
    known_variants = set(Variant.objects.filter(shop=shop).values_list("platform_id", flat=True))
    today = timezone.localdate(now, timezone=shop.zoneinfo)
    for item in demo.CATALOG:
        product = product_upsert(
            shop=shop,
            data=ProductData(
                platform_id=demo.product_platform_id(item),
                title=item.title,
                handle=slugify(item.title),
                product_type=item.product_type,
                vendor=item.vendor,
                tags=item.tags,
                status=item.status,
                variants=[
                    VariantData(
                        platform_id=demo.variant_platform_id(item, position),
                        title=variant.title,
                        sku=variant.sku,
                        price=variant.price,
                        inventory_item_id=demo.inventory_item_id(item, position),
                        inventory_policy=variant.policy,
                    )
                    for position, variant in enumerate(item.variants, start=1)
                ],
            ),
        )
        # The owner's policy, set once as in the admin (through the same services): later edits win.
        if item.discontinued and product.platform_id not in known_products:
            product_set_policy(product=product, actor=ACTOR, discontinued=True)
        for position, variant in enumerate(item.variants, start=1):
            platform_id = demo.variant_platform_id(item, position)
            if platform_id in known_variants:
                continue
            restock_date = None
            if variant.restock_in_days is not None:
                restock_date = today + timedelta(days=variant.restock_in_days)
            variant_set_policy(
                variant=Variant.objects.get(shop=shop, platform_id=platform_id),
                actor=ACTOR,
                backorder_limit=variant.backorder_limit,
                restock_date=restock_date,
                restock_note=variant.restock_note,
            )
    return len({demo.product_platform_id(item) for item in demo.CATALOG} - known_products)


def _variants_by_sku(shop: Shop) -> dict[str, Variant]:
    return {
        variant.sku: variant
        for variant in Variant.objects.filter(shop=shop).select_related("product", "shop")
    }


def _seed_stock(shop: Shop, locations: list[Location]) -> set[str]:
    """Opening stock at each location, only where no level exists yet (never counted twice).

    Returns the SKUs stocked in this run: deliveries apply only to them.
    """
    variants = _variants_by_sku(shop)
    existing = set(InventoryLevel.objects.filter(shop=shop).values_list("variant_id", "location_id"))
    stocked = set()
    for item in demo.CATALOG:
        for spec in item.variants:
            variant = variants[spec.sku]
            for location, available in zip(locations, spec.stock, strict=True):
                if (variant.pk, location.pk) in existing:
                    continue
                stock_set_available(variant=variant, available=available, location=location, actor=ACTOR)
                stocked.add(spec.sku)
    return stocked


def _seed_orders(shop: Shop, now: datetime) -> None:
    """Record the past orders as the platform would (accepted: already paid); idempotent per order id."""
    variants = _variants_by_sku(shop)
    for order in demo.ORDERS:
        lines = []
        for position, line in enumerate(order.lines, start=1):
            variant = variants[line.sku] if line.sku is not None else None
            lines.append(
                LineInput(
                    platform_id=demo.line_platform_id(order, position),
                    variant_id=variant.pk if variant else None,
                    quantity=line.quantity,
                    title=line.title or (str(variant) if variant else ""),
                    sku=line.sku or "",
                    unit_price=variant.price if variant else None,
                )
            )
        order_record(
            shop=shop,
            platform_id=demo.order_platform_id(order),
            placed_at=now - timedelta(days=order.days_ago),
            lines=lines,
            actor=Actor.platform("orders/create"),
            accepted=True,
            number=f"#{order.number}",
            email=order.email,
            customer_name=order.customer,
            locale=order.locale,
            currency=shop.currency,
        )


def _seed_deliveries(shop: Shop, location: Location, stocked: set[str]) -> None:
    """Stock that came in after the orders (allocating to waiting customers), once per stocking."""
    variants = _variants_by_sku(shop)
    for item in demo.CATALOG:
        for spec in item.variants:
            if spec.delivered_to is not None and spec.sku in stocked:
                stock_set_available(
                    variant=variants[spec.sku], available=spec.delivered_to, location=location, actor=ACTOR
                )


def _seed_admin_user() -> bool:
    """Create the demo superuser, or reset it to the published password. Returns whether created."""
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    user = user_model._default_manager.filter(**{username_field: demo.ADMIN_USERNAME}).first()
    if user is None:
        user_model._default_manager.create_superuser(  # type: ignore[attr-defined]
            **{
                username_field: demo.ADMIN_USERNAME,
                "email": demo.ADMIN_EMAIL,
                "password": demo.ADMIN_PASSWORD,
            }
        )
        return True
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(demo.ADMIN_PASSWORD)
    user.save()
    return False
