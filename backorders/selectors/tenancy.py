"""Which shops a user may see and change: the one read every scoped page starts from.

The admin, the dashboard and their custom pages all ask ``user_scope`` and filter through
``Scope.filter``; nothing else decides tenancy, so a page cannot forget a rule the others apply.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from backorders.models import Membership

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """What one user may do. ``everything``: an active superuser (every shop, every change).
    Otherwise ``shop_ids`` are the shops they may see (any role), ``writable_shop_ids`` those
    they may change rows of (owner or staff), ``owned_shop_ids`` those whose settings they may
    change (owner). ``shop_names`` names each shop of ``shop_ids`` (for the site header)."""

    everything: bool = False
    shop_ids: frozenset[int] = frozenset()
    writable_shop_ids: frozenset[int] = frozenset()
    owned_shop_ids: frozenset[int] = frozenset()
    shop_names: Mapping[int, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sees_any(self) -> bool:
        """May see at least one shop (and so enter the app's admin pages)."""
        return self.everything or bool(self.shop_ids)

    @property
    def writes_any(self) -> bool:
        """May change rows of at least one shop."""
        return self.everything or bool(self.writable_shop_ids)

    def can_view(self, shop_id: int | None) -> bool:
        return self.everything or (shop_id is not None and shop_id in self.shop_ids)

    def can_write(self, shop_id: int | None) -> bool:
        return self.everything or (shop_id is not None and shop_id in self.writable_shop_ids)

    def can_own(self, shop_id: int | None) -> bool:
        return self.everything or (shop_id is not None and shop_id in self.owned_shop_ids)

    def filter(
        self, queryset: QuerySet[M], shop_path: str = "shop", *, writable: bool = False
    ) -> QuerySet[M]:
        """``queryset`` narrowed to the rows this user may see (``writable``: may change), the
        row's shop being reached by ``shop_path`` (``"shop"``, ``"notification__shop"``, or
        ``"pk"`` for shops themselves)."""
        if self.everything:
            return queryset
        ids = self.writable_shop_ids if writable else self.shop_ids
        return queryset.filter(**{f"{shop_path}__in": sorted(ids)})


NOTHING = Scope()


def user_scope(user: Any) -> Scope:
    """The scope of ``user`` (one query, none for a superuser or an anonymous or inactive user):
    every shop for an active superuser; the shops of their memberships for another active user;
    nothing for an inactive or anonymous one."""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.is_superuser:
        return Scope(everything=True)
    rows = list(Membership.objects.filter(user=user).values_list("shop_id", "role", "shop__name"))
    writers = set(Membership.Role.writers())
    return Scope(
        shop_ids=frozenset(shop_id for shop_id, _role, _name in rows),
        writable_shop_ids=frozenset(shop_id for shop_id, role, _name in rows if role in writers),
        owned_shop_ids=frozenset(shop_id for shop_id, role, _name in rows if role == Membership.Role.OWNER),
        shop_names={shop_id: name for shop_id, _role, name in rows},
    )


def request_scope(request: Any) -> Scope:
    """``user_scope`` of the request's user, read once per request (cached on the request)."""
    cached = getattr(request, "_backorders_scope", None)
    if cached is None or cached[0] is not request.user:
        cached = (request.user, user_scope(request.user))
        request._backorders_scope = cached
    return cached[1]


__all__ = ["NOTHING", "Scope", "request_scope", "user_scope"]
