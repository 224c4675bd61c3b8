"""The owner's bulk policy tools on the variant and product lists: "Set restock date…" (a date and
a note → what it would do → confirm), "Export policies (CSV)", and the import page (upload →
preview of every change and every error → apply).

Parse, call one service, present: the rules are in ``services.restock`` and
``services.policy_csv``. Rows are looked up only through the ModelAdmin's ``get_queryset`` (the
selection of an action, the import's scope) and refused unless ``has_change_permission(request,
obj)`` allows each one, so the admin's per-shop scoping applies here by itself.

The import keeps the uploaded file between its two steps without trusting the client: the
preview page carries the text back in a hidden field with a signature over its SHA-256, this
user and the time (``django.core.signing``, one hour), and applying parses it again against the
data as it is then. Nothing is stored on the server, so any web process can take the second step.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backorders.models import Product, Variant
from backorders.services.audit import Actor
from backorders.services.catalog import PolicyRefused
from backorders.services.policy_csv import (
    COLUMNS,
    EDITABLE,
    MAX_BYTES,
    ImportPlan,
    ImportRefused,
    policy_export_csv,
    policy_import_apply,
    policy_import_parse,
)
from backorders.services.restock import RESTOCK_NOTE_MAX, restock_preview, restock_set

SIGNING_SALT = "backorders.admin.policy-import"
SIGNATURE_MAX_AGE = 3600


def _selected_for_change(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> list:
    """The selected rows (the action's queryset comes from ``get_queryset``), each one the user
    may change; PermissionDenied otherwise."""
    objs = list(queryset.select_related("shop").order_by("pk"))
    if any(not modeladmin.has_change_permission(request, obj) for obj in objs):
        raise PermissionDenied(gettext("You may not change some of the selected rows."))
    return objs


# --- Set restock date… ------------------------------------------------------------------------


class RestockForm(forms.Form):
    """The new restock date and, optionally, the note customers read with it."""

    restock_date = forms.DateField(
        label=_("Restock date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day stock is expected; each customer's ETA adds the handling days."),
    )
    note = forms.CharField(
        label=_("Restock note (optional)"),
        max_length=RESTOCK_NOTE_MAX,
        required=False,
        help_text=_("Shown to customers with the date, e.g. “Second batch from the mill”. Empty: unchanged."),
    )


def restock_action(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """The intermediate pages of "Set restock date…": the form, then what it would do (how many
    customers' ETAs move, how many are emailed), then ``restock_set`` on "Confirm"."""
    objs = _selected_for_change(modeladmin, request, queryset)
    is_product = modeladmin.model is Product
    targets: dict[str, Sequence[Any]] = {"products": objs} if is_product else {"variants": objs}
    form = RestockForm(request.POST if "restock_step" in request.POST else None)
    preview = None
    if form.is_bound and form.is_valid() and request.POST["restock_step"] in ("preview", "confirm"):
        restock_date, note = form.cleaned_data["restock_date"], form.cleaned_data["note"]
        try:
            if request.POST["restock_step"] == "confirm":
                result = restock_set(
                    **targets,
                    restock_date=restock_date,
                    note=note,
                    actor=Actor.admin(request.user.get_username()),
                )
                modeladmin.message_user(
                    request,
                    gettext(
                        "Restock date set for %(variants)d variant(s); %(moved)d customers' ETAs moved; "
                        "%(emails)d email(s) queued."
                    )
                    % {
                        "variants": result.variants,
                        "moved": result.customers_moved,
                        "emails": result.emails_queued,
                    },
                    messages.SUCCESS,
                )
                return None
            preview = restock_preview(**targets, restock_date=restock_date)
        except PolicyRefused as refusal:
            form.add_error("restock_date", refusal.message_dict["restock_date"])
            preview = None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Set restock date"),
        "opts": modeladmin.model._meta,
        "media": modeladmin.media + form.media,
        "selected": objs,
        "is_product": is_product,
        "form": form,
        "preview": preview,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        "admin/backorders/restock_confirmation.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


# --- CSV export -------------------------------------------------------------------------------


def policy_export_response(variants: QuerySet[Variant]) -> HttpResponse:
    """The variants' policies as a CSV download (UTF-8 with a BOM, so that Excel reads it)."""
    response = HttpResponse("\ufeff" + policy_export_csv(variants), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="variant-policies-{stamp}.csv"'
    return response


def export_action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
    """Export the selected variants' (or the selected products' variants') policies."""
    if modeladmin.model is Product:
        variants = Variant.objects.filter(product__in=queryset.values("pk"))
    else:
        variants = Variant.objects.filter(pk__in=queryset.values("pk"))
    return policy_export_response(variants)


# --- CSV import -------------------------------------------------------------------------------


class PolicyImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("A file exported from this list (“Export policies (CSV)”), edited; UTF-8, at most 2 MB."),
    )


def _lines(text: str) -> str:
    """``text`` with CRLF line ends: a browser sends a textarea's text so, whatever it was given."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _sign(request: HttpRequest, text: str) -> str:
    digest = hashlib.sha256(_lines(text).encode()).hexdigest()
    return signing.TimestampSigner(salt=SIGNING_SALT).sign_object({"sha256": digest, "user": request.user.pk})


def _signed_text(request: HttpRequest) -> str | None:
    """The file text the preview page carried back, if its signature holds for this user."""
    text, signature = _lines(request.POST.get("csv_text", "")), request.POST.get("signature", "")
    try:
        signed = signing.TimestampSigner(salt=SIGNING_SALT).unsign_object(
            signature, max_age=SIGNATURE_MAX_AGE
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    if signed != {"sha256": hashlib.sha256(text.encode()).hexdigest(), "user": request.user.pk}:
        return None
    return text


def policy_import_view(modeladmin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Upload → a preview of each row's change (old → new) and each bad row's error by line and
    column, nothing written → "Apply" (the same text, signed) → ``policy_import_apply``."""
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied(gettext("You may not change variants."))
    scope = modeladmin.get_queryset(request)

    def may_change(variant: Model) -> bool:
        return modeladmin.has_change_permission(request, variant)

    form = PolicyImportForm()
    plan: ImportPlan | None = None
    text = ""
    status = 200
    if request.method == "POST" and "apply" in request.POST:
        signed = _signed_text(request)
        if signed is None:
            modeladmin.message_user(
                request,
                gettext(
                    "The preview has expired or was altered: upload the file again. Nothing was changed."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)
        text = signed
        plan = policy_import_parse(text, variants=scope, may_change=may_change)
        if plan.ok:
            try:
                result = policy_import_apply(plan=plan, actor=Actor.admin(request.user.get_username()))
            except (ImportRefused, PolicyRefused) as refusal:
                modeladmin.message_user(request, str(refusal), messages.ERROR)
            else:
                modeladmin.message_user(
                    request,
                    gettext("Policies imported: %(changed)d variant(s) changed, %(unchanged)d unchanged.")
                    % {"changed": result.changed, "unchanged": result.unchanged},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(f"{modeladmin.admin_site.name}:backorders_variant_changelist")
                )
        status = 400  # the data changed since the preview: the new errors are shown
    elif request.method == "POST":
        form = PolicyImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(MAX_BYTES + 1)
            plan = policy_import_parse(data, variants=scope, may_change=may_change)
            if plan.ok:
                text = data.decode("utf-8-sig")
            else:
                status = 400
        else:
            status = 400
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Import policies (CSV)"),
        "opts": modeladmin.model._meta,
        "form": form,
        "plan": plan,
        "rows": _rows_for_display(plan) if plan else [],
        "csv_text": text,
        "signature": _sign(request, text) if plan is not None and plan.ok and plan.changed else "",
        "columns": COLUMNS,
        "editable": EDITABLE,
        "max_mb": MAX_BYTES // (1024 * 1024),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/backorders/policy_import.html", context, status=status)


def _display(value: Any) -> str:
    if value is None or value == "":
        return gettext("(inherit)")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _rows_for_display(plan: ImportPlan) -> list[dict[str, Any]]:
    """Each row with a change or an error, in line order: what the preview table shows."""
    rows = []
    for row in plan.rows:
        if not row.changes and not row.errors:
            continue
        rows.append(
            {
                "line": row.line,
                "variant": row.variant,
                "changes": [(name, _display(old), _display(new)) for name, (old, new) in row.changes.items()],
                "errors": row.errors,
            }
        )
    return rows
