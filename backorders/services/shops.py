"""The tenant's own life cycle: connecting a shop (and reconnecting after an uninstall), its
settings, and the platform's uninstall. Every entry point (``backorders_add_shop``, the admin, the
platform's ``app/uninstalled``, a host store's install flow) calls these."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone

from backorders.models import ApiToken, Event, Shop
from backorders.services.audit import Actor


class StaleShopEvent(Exception):
    """A platform notice about the app's installation (an uninstall) happened before the shop was
    last connected: it is a late or replayed notice and is not applied. The message says both
    times, for the owner."""


class ShopConnected(NamedTuple):
    """What ``shop_connect`` did: the shop, whether it was created, and whether it was inactive
    (uninstalled) before and is active again."""

    shop: Shop
    created: bool
    reactivated: bool


def _when(moment: datetime) -> str:
    """A moment as people read it in messages: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _shop_write(
    *,
    domain: str,
    name: str,
    owner_email: str,
    webhook_secret: str | None,
    connect: bool,
    fields: Mapping[str, object],
) -> ShopConnected:
    domain = domain.strip().lower()
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    created = shop is None
    shop = shop or Shop(domain=domain)
    was_active = shop.is_active
    shop.name, shop.owner_email = name.strip(), owner_email.strip()
    if webhook_secret is not None:
        shop.webhook_secret = webhook_secret
    for key, value in fields.items():
        setattr(shop, key, value)
    if connect:
        shop.is_active = True
    reactivated = not created and not was_active and shop.is_active
    if connect or created or reactivated:
        # A (re)connection: platform notices about an earlier installation no longer apply.
        shop.connected_at, shop.uninstalled_at = timezone.now(), None
    shop.full_clean()
    shop.save()
    return ShopConnected(shop, created, reactivated)


class ShopSettings(TypedDict, total=False):
    """A shop's settings besides its identity (domain, name, owner email, secret)."""

    from_email: str
    language: str
    timezone: str
    currency: str
    is_active: bool
    backorder_mode: str
    backorder_limit: int | None
    handling_days: int | None
    restock_lead_days: int | None
    low_stock_threshold: int | None
    eta_change_threshold_days: int | None
    apology_threshold_days: int | None
    apology_incentive: str
    followup_days: int | None
    cancellation_payment_texts: dict[str, str]
    storefront_url: str
    storefront_origins: list[str]
    show_quantity_available: bool
    show_alert_count: bool


@transaction.atomic
def shop_upsert(
    *,
    domain: str,
    name: str,
    owner_email: str,
    webhook_secret: str | None = None,
    **fields: Unpack[ShopSettings],
) -> tuple[Shop, bool]:
    """Create or update the shop with ``domain``; validates every field first, writes nothing if
    one is wrong (``ValidationError``). Returns (shop, created).

    Editing settings is not a reconnection, except that a shop made active again by hand
    (``is_active=True`` on an inactive shop, the admin's "active" box) counts as one, exactly as
    ``shop_connect``. To connect a store, call ``shop_connect``."""
    result = _shop_write(
        domain=domain,
        name=name,
        owner_email=owner_email,
        webhook_secret=webhook_secret,
        connect=False,
        fields=fields,
    )
    return result.shop, result.created


@transaction.atomic
def shop_connect(
    *,
    domain: str,
    name: str,
    owner_email: str,
    webhook_secret: str | None = None,
    **fields: Unpack[ShopSettings],
) -> ShopConnected:
    """Connect a store (``backorders_add_shop``, or a host store's own install flow): create the
    shop, or update it and make it active again if it had uninstalled the app, so that its
    webhooks are accepted again. Validates like ``shop_upsert`` (``ValidationError``, nothing
    written).

    Every call records the connection time (``Shop.connected_at``, also set on creation) and
    clears the recorded uninstall: an ``app/uninstalled`` or ``shop/redact`` that happened before
    it (a late delivery, or a replay of the earlier uninstall) is then refused by
    ``shop_deactivate`` and ``privacy.shop_redact``. Reconnecting an active shop records the time
    too: the platform may still be delivering the uninstall that preceded this connection."""
    if "is_active" in fields:
        raise TypeError("shop_connect always activates the shop; use shop_upsert to set is_active.")
    return _shop_write(
        domain=domain,
        name=name,
        owner_email=owner_email,
        webhook_secret=webhook_secret,
        connect=True,
        fields=fields,
    )


@transaction.atomic
def shop_deactivate(*, shop: Shop, uninstalled_at: datetime | None = None) -> Shop:
    """The shop uninstalled the app at ``uninstalled_at`` (the platform's time of the uninstall;
    None: now): mark it inactive and record when (its webhooks are then refused, except the
    privacy topics the platform still sends). Its data stays until the platform's shop redact.

    An uninstall that happened before the shop was last connected (``connected_at``) is a late or
    replayed notice of an earlier installation: nothing changes and ``StaleShopEvent`` says why.
    An uninstall of an inactive shop records the later of the two uninstall times."""
    uninstalled_at = uninstalled_at or timezone.now()
    shop = Shop.objects.select_for_update().get(pk=shop.pk)  # serialised with shop_connect
    if uninstalled_at <= shop.connected_at:
        raise StaleShopEvent(
            f"Not applied, a late or replayed uninstall: it happened at {_when(uninstalled_at)}, "
            f"before the shop was last connected ({_when(shop.connected_at)}). The shop stays "
            f"{'active' if shop.is_active else 'as it was'}."
        )
    latest = max(uninstalled_at, shop.uninstalled_at or uninstalled_at)
    if shop.is_active or shop.uninstalled_at != latest:
        shop.is_active, shop.uninstalled_at = False, latest
        shop.save(update_fields=["is_active", "uninstalled_at", "updated_at"])
    return shop


# An API key: a recognisable prefix (secret scanners and people can tell what leaked) and 256
# random bits.
API_KEY_PREFIX = "bko_"


def api_key_digest(key: str) -> str:
    """The stored form of an API key (its SHA-256, hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenCreated(NamedTuple):
    """A new token and its key: the only time the key exists outside the caller's hands."""

    token: ApiToken
    key: str


@transaction.atomic
def api_token_create(*, shop: Shop, name: str, actor: Actor) -> ApiTokenCreated:
    """Create a management-API token of ``shop`` named ``name`` (what uses it); returns the token
    and its key, which is stored only as a digest and cannot be shown again. ``ValidationError``
    for an empty or over-long name (nothing written)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        shop=shop,
        name=name.strip(),
        prefix=key[: len(API_KEY_PREFIX) + 6],
        key_digest=api_key_digest(key),
        created_by=f"{Event.ActorKind(actor.kind).label}: {actor.name}"[:255] if actor.name else actor.kind,
    )
    token.full_clean(exclude=["shop"])
    token.save()
    return ApiTokenCreated(token, key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token``: every later request with its key is refused (401). Revoking a revoked
    token changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token of an active shop whose key is ``key`` (None if there is none). Records
    the use at most once a minute per token, so that a busy client does not write on every
    request."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("shop")
        .filter(key_digest=api_key_digest(key), revoked_at__isnull=True, shop__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
