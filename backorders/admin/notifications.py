"""The email outbox for the owner: what was sent, what failed, what may or may not have gone out
(``unknown``: decide, then resend), suppressed addresses, and a preview of every email kind in
every shipped language with sample data."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backorders.admin.base import ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin, ShopScopedMixin
from backorders.conf import get_setting
from backorders.models import (
    Notification,
    NotificationItem,
    Order,
    Product,
    RestockAlert,
    Shop,
    Suppression,
    Variant,
)
from backorders.models.orders import EtaSource
from backorders.services.audit import Actor
from backorders.services.notifications import notification_resend
from backorders.services.notifications.outbox import notification_render
from backorders.services.notifications.tracking import suppression_add, suppression_remove


class NotificationItemInline(ReadOnlyInline):
    model = NotificationItem
    shop_path = "notification__shop"
    fields = ["backorder", "event", "eta"]
    readonly_fields = ["backorder", "event", "eta"]
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationItem]:
        return super().get_queryset(request).select_related("backorder__order", "backorder__variant__product")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    change_list_template = "backorders/admin/notification_change_list.html"
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "order",
        "alert",
        "status",
        "delivery_status",
        "attempts",
        "due_at",
        "shop",
    ]
    list_select_related = ["order", "alert", "shop"]
    list_filter = ["status", "kind", "shop", "delivery_status", "language"]
    search_fields = ["recipient", "order__number", "message_id"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    inlines = [NotificationItemInline]
    fieldsets = [
        (None, {"fields": ["shop", "kind", "recipient", "order", "alert", "language", "dedupe_key"]}),
        (
            _("Sending"),
            {"fields": ["status", "due_at", "attempts", "claimed_at", "sent_at", "message_id", "last_error"]},
        ),
        (
            _("Delivery (provider tracking)"),
            {"fields": ["delivery_status", "delivery_at", "delivery_detail"]},
        ),
        (_("Content"), {"fields": ["context"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "shop",
        "kind",
        "recipient",
        "order",
        "alert",
        "language",
        "dedupe_key",
        "status",
        "due_at",
        "attempts",
        "claimed_at",
        "sent_at",
        "message_id",
        "last_error",
        "delivery_status",
        "delivery_at",
        "delivery_detail",
        "context",
        "created_at",
        "updated_at",
    ]

    @admin.action(description=_("Resend the selected failed, unknown or suppressed emails"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        """Resend through ``notification_resend``; rows sent or still pending are left alone."""
        actor = Actor.admin(request.user.get_username())
        rows = list(queryset.filter(status__in=Notification.Status.resendable()))
        for row in rows:
            notification_resend(notification=row, actor=actor)
        skipped = queryset.count() - len(rows)
        self.message_user(
            request,
            ngettext("%(n)d email will be sent again.", "%(n)d emails will be sent again.", len(rows))
            % {"n": len(rows)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d email was skipped: only failed, unknown or suppressed emails can be resent.",
                    "%(n)d emails were skipped: only failed, unknown or suppressed emails can be resent.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("preview/", view(self.preview_index), name="backorders_notification_preview"),
            path(
                "preview/<str:kind>/<str:language>/",
                view(self.preview),
                name="backorders_notification_preview_kind",
            ),
            *super().get_urls(),
        ]

    def preview_index(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview emails"),
            "opts": self.model._meta,
            "kinds": Notification.Kind.choices,
            "languages": settings.LANGUAGES,
        }
        return TemplateResponse(request, "backorders/admin/notification_preview.html", context)

    def preview(self, request: HttpRequest, kind: str, language: str) -> HttpResponse:
        """One kind in one language with sample data: subject, HTML part and text part."""
        if not self.has_view_permission(request):
            raise Http404
        if kind not in Notification.Kind.values or language not in dict(settings.LANGUAGES):
            raise Http404
        shop = self.scope(request).filter(Shop.objects.order_by("pk"), "pk").first()
        rendered = notification_render(notification_sample(kind=kind, language=language, shop=shop))
        if request.GET.get("part") == "html":
            response = HttpResponse(rendered.html)
            response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src *"
            response["X-Frame-Options"] = "SAMEORIGIN"  # shown in the preview page's iframe
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(kind)s (%(language)s)")
            % {"kind": Notification.Kind(kind).label, "language": language},
            "opts": self.model._meta,
            "kinds": Notification.Kind.choices,
            "languages": settings.LANGUAGES,
            "rendered": rendered,
            "html_url": reverse("admin:backorders_notification_preview_kind", args=[kind, language])
            + "?part=html",
        }
        return TemplateResponse(request, "backorders/admin/notification_preview.html", context)


@admin.register(Suppression)
class SuppressionAdmin(ScopedAdmin):
    """Addresses not emailed. Delete a row to mail the address again (e.g. after the customer
    fixed their mailbox); then resend their failed emails from the outbox."""

    list_display = ["email", "reason", "detail", "created_at", "shop"]
    list_select_related = ["shop"]
    list_filter = ["reason", "shop"]
    search_fields = ["email"]
    fields = ["shop", "email", "reason", "detail", "notification", "created_at"]
    readonly_fields = ["notification", "created_at"]
    raw_id_fields = ["notification"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a suppression is a fact (a bounce, a request): added or removed, not edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removed (to mail the address again) by owner or staff of its shop.
        return ShopScopedMixin.has_change_permission(self, request, obj)

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        """Through ``suppression_add``, as the outbox and the tracking webhooks add them (the
        form offers only the user's shops; checked again here)."""
        self.check_write(request, obj)
        saved = suppression_add(shop=obj.shop, email=obj.email, reason=obj.reason, detail=obj.detail)
        obj.pk, obj.email, obj.created_at = saved.pk, saved.email, saved.created_at

    def delete_model(self, request: HttpRequest, obj: Suppression) -> None:
        self.check_write(request, obj)
        suppression_remove(suppression=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Suppression]) -> None:
        for suppression in self.scope(request).filter(queryset, writable=True):
            suppression_remove(suppression=suppression)


def notification_sample(*, kind: str, language: str, shop: Shop | None = None) -> Notification:
    """An unsaved email of ``kind`` with sample data, for the preview (nothing is written), as
    ``shop`` would send it (None: a sample shop). The admin passes one of the user's shops."""
    shop = shop or Shop(pk=0, name="Sample Shop", domain="sample.myshopify.com")
    order = Order(pk=0, shop=shop, number="#1001", email="customer@example.com", customer_name="Ada Lovelace")
    today = timezone.localdate()
    eta = today + timedelta(days=12)
    items: list[dict[str, Any]] = [
        {"id": 1, "title": "Stoneware Mug — Blue", "sku": "MUG-BLUE", "quantity": 2, "eta": eta.isoformat()},
        {"id": 2, "title": "Linen Tea Towel", "sku": "TOWEL-1", "quantity": 1, "eta": None},
    ]
    items[0]["eta_source"], items[1]["eta_source"] = EtaSource.MANUAL, EtaSource.UNKNOWN
    context: dict[str, Any] = {"order_number": "#1001", "customer_name": "Ada Lovelace", "items": items}
    if kind == Notification.Kind.ETA_CHANGED:
        context["direction"] = "delayed"
        context["incentive"] = shop.apology_incentive or "Use code SORRY10 for 10% off your next order."
        for item in items:
            item.update(
                eta=(eta + timedelta(days=9)).isoformat(),
                eta_source=EtaSource.LEAD_TIME,
                old_eta=eta.isoformat(),
                direction="delayed",
                days=9,
                apology=True,
            )
    elif kind == Notification.Kind.SHIPPED:
        items[0].update(
            tracking_company="UPS", tracking_number="1Z999AA10123456784", tracking_url="https://example.com/t"
        )
    elif kind == Notification.Kind.CANCELLED:
        context["actor"] = "customer"
        context["payment_text"] = shop.payment_text(language)
    elif kind == Notification.Kind.OWNER_CANCELLED:
        context.update(actor="customer", customer_email=order.email)
        items[0].update(amount="38.00", currency=shop.currency or "USD", reason="No longer needed.")
    elif kind == Notification.Kind.DIGEST:
        line = {"order": "#1001", "title": "Stoneware Mug — Blue", "quantity": 2, "eta": None, "reason": ""}
        context = {
            "shop_name": shop.name,
            "date": today.isoformat(),
            "counts": {"new": 3, "overdue": 1, "flagged": 1, "failed_emails": 1, "failed_webhooks": 0},
            "new": [line] * 3,
            "overdue": [{**line, "eta": (today - timedelta(days=2)).isoformat()}],
            "flagged": [{**line, "reason": "Only 0 more of Stoneware Mug can be backordered (asked: 2)."}],
            "failed_emails": [{"kind": "Shipped", "recipient": "bounced@example.com", "status": "failed"}],
            "items": [],
        }
    if kind in Notification.Kind.about_alerts():
        variant = Variant(pk=0, shop=shop, title="Blue", sku="MUG-BLUE")
        variant.product = Product(pk=0, shop=shop, title="Stoneware Mug", handle="stoneware-mug")
        alert = RestockAlert(pk=0, shop=shop, variant=variant, email=order.email, language=language)
        return Notification(
            shop=shop,
            kind=kind,
            recipient=order.email,
            alert=alert,
            language=language,
            context={
                "item": f"{variant.product.title} — {variant.title}",  # unsaved: str() has no product id
                "product_title": variant.product.title,
                "sku": variant.sku,
                "product_url": shop.product_url(variant.product.handle),
                "expiry_days": get_setting("ALERT_CONFIRM_EXPIRY_DAYS"),
            },
            due_at=timezone.now(),
        )
    return Notification(
        shop=shop,
        kind=kind,
        recipient=(shop.owner_email or "owner@example.com")
        if kind in (Notification.Kind.DIGEST, *Notification.Kind.to_owner())
        else order.email,
        order=None if kind == Notification.Kind.DIGEST else order,
        language=language,
        context=context,
        due_at=timezone.now(),
    )


__all__ = ["NotificationAdmin", "SuppressionAdmin", "notification_sample"]
