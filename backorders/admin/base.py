"""What every ModelAdmin and inline of the app shares: per-shop scoping, and what it may never do.

Every row belongs to one shop. A superuser sees and changes every shop; anyone else sees the
shops they are a member of (``models.Membership``) and changes only those where they are owner or
staff (``selectors.tenancy.Scope``). Django's model permissions play no part: a membership alone
opens these pages, and no permission can reach across shops. The rules, enforced here once:

* lists, change pages, inlines, raw-id lookups and autocompletes read through ``get_queryset``,
  narrowed to the user's shops: another shop's row is not found (its URL answers like a deleted
  row's, Django's way);
* a list filter by a related row (the shop) offers only rows of their own list;
* a foreign key on a form offers (and accepts) only rows of shops the user may change: a crafted
  value of another shop is "Select a valid choice", and nothing is saved;
* actions run on the selected rows of shops the user may change (others are dropped before the
  action sees them), and a user who may change nothing is offered no action;
* custom views call ``self.scope(request)``, ``get_object`` (scoped) and ``self.check_write``.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from backorders.models import Shop
from backorders.selectors.tenancy import Scope, request_scope


def shop_id_of(obj: Any, shop_path: str = "shop") -> int | None:
    """The id of the shop ``obj`` belongs to, following ``shop_path`` (``"pk"``: ``obj`` is a
    shop); ``None`` when unknown (an unsaved row without a shop yet)."""
    if obj is None:
        return None
    if isinstance(obj, Shop) or shop_path == "pk":
        return obj.pk
    *hops, last = shop_path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def _scoped_field_queryset(scope: Scope, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The choices of a foreign key narrowed to the shops ``scope`` may change (rows with no
    shop field, such as users, are left alone)."""
    model = queryset.model
    if model is Shop:
        return scope.filter(queryset, "pk", writable=True)
    if any(field.name == "shop" for field in model._meta.get_fields()):
        return scope.filter(queryset, "shop", writable=True)
    return queryset


class ShopScopedMixin:
    """Scopes a ModelAdmin or an inline to the request user's shops (see the module docstring).

    ``shop_path`` is the lookup from this admin's model to its shop (``"shop"``;
    ``"notification__shop"``; ``"pk"`` for shops themselves)."""

    shop_path: str = "shop"

    # -- helpers for the app's admin modules ------------------------------------------------

    def scope(self, request: HttpRequest) -> Scope:
        """The request user's scope (one query per request)."""
        return request_scope(request)

    def obj_shop_id(self, obj: Any) -> int | None:
        return shop_id_of(obj, self.shop_path)

    def check_write(self, request: HttpRequest, obj: Any) -> None:
        """Refuse (``PermissionDenied``, answered 403) unless the user may change ``obj``'s shop."""
        if not self.scope(request).can_write(self.obj_shop_id(obj)):
            raise PermissionDenied(_("You may not change this shop's data."))

    # -- Django's hooks ---------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(request).filter(super().get_queryset(request), self.shop_path)  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.scope(request).sees_any

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        return scope.sees_any if obj is None else scope.can_view(self.obj_shop_id(obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        return scope.writes_any if obj is None else scope.can_write(self.obj_shop_id(obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).writes_any

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def get_list_filter(self, request: HttpRequest) -> Any:
        """The list's filters; for anyone but a superuser, a filter by a related row (the shop,
        a location) offers only rows that occur in their own scoped list, never other shops'."""
        filters = super().get_list_filter(request)  # type: ignore[misc]
        if self.scope(request).everything:
            return filters
        model = self.model  # type: ignore[attr-defined]
        return [
            (entry, admin.RelatedOnlyFieldListFilter)
            if isinstance(entry, str) and get_fields_from_path(model, entry)[-1].is_relation
            else entry
            for entry in filters
        ]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and getattr(formfield, "queryset", None) is not None:
            formfield.queryset = _scoped_field_queryset(self.scope(request), formfield.queryset)
        return formfield


class ScopedAdmin(ShopScopedMixin, admin.ModelAdmin):
    """A ModelAdmin scoped to the user's shops, whose actions run only on rows they may change."""

    # Actions that only read (an export): offered to viewers too, run on every selected row the
    # user may see. Every other action changes rows and runs only on rows they may change.
    read_actions: tuple[str, ...] = ()

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        writes = self.scope(request).writes_any
        return {
            name: (func if name in self.read_actions else self._writable_only(func), name, description)
            for name, (func, _name, description) in actions.items()
            # a viewer changes nothing: no writing action is offered (nor accepted when posted)
            if writes or name in self.read_actions
        }

    def _writable_only(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` run on the selected rows of the shops the user may change, whatever ids were
        posted (the queryset Django passes is already narrowed to the shops they may see)."""

        @wraps(func)
        def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
            return func(
                modeladmin, request, self.scope(request).filter(queryset, self.shop_path, writable=True)
            )

        return action


class TenantAdmin(ScopedAdmin):
    """A ModelAdmin for rows that only services create or remove: no add, no delete.

    Rows come from the platform or from services, and deleting one (an order, a backorder, a
    variant with waiting customers) would bypass the bookkeeping those services do.
    """

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(TenantAdmin):
    """A ModelAdmin that only shows (rows written by services alone); its actions call services,
    for users who may change the rows' shops."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ScopedInline(ShopScopedMixin, admin.TabularInline):
    """An inline scoped to the user's shops; the parent's shop decides who may change it."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        return scope.sees_any if obj is None else scope.can_view(shop_id_of(obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        scope = self.scope(request)
        return scope.writes_any if obj is None else scope.can_write(shop_id_of(obj))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)


class ReadOnlyInline(ScopedInline):
    """An inline that only shows."""

    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SuperuserOnlyInline(admin.TabularInline):
    """An inline only active superusers see (who may work on which shop)."""

    extra = 0

    def _superuser(self, request: HttpRequest) -> bool:
        return request_scope(request).everything

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)


__all__ = [
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "ScopedAdmin",
    "ScopedInline",
    "ShopScopedMixin",
    "SuperuserOnlyInline",
    "TenantAdmin",
    "shop_id_of",
]
