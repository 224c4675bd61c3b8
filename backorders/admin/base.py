"""What every ModelAdmin of the app shares: who may see it, and what it may never do."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class SuperuserOnlyMixin:
    """Only superusers see or change these rows.

    Every row belongs to a shop, and a staff user with Django model permissions would otherwise
    see every shop's data. Per-shop staff scoping (a user ↔ shop link and querysets filtered by it)
    replaces this later; until then nothing is shown to anyone who may not see everything.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser


class TenantAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """A ModelAdmin for rows that only services create or remove: no add, no delete.

    Rows come from the platform or from services, and deleting one (an order, a backorder, a
    variant with waiting customers) would bypass the bookkeeping those services do.
    """

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(TenantAdmin):
    """A ModelAdmin that only shows (rows written by services alone)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(SuperuserOnlyMixin, admin.TabularInline):
    """An inline that only shows."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
