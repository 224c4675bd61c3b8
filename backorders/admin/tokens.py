"""API tokens of the management API: created here (the key is shown once), revoked here, never
edited or deleted (a revoked token stays listed, so the owner can see what had access)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backorders.admin.base import SuperuserOnlyMixin
from backorders.models import ApiToken
from backorders.services.audit import Actor
from backorders.services.shops import api_token_create, api_token_revoke

_KEY_ATTRIBUTE = "_backorders_api_key"


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["shop", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    shop_path = "shop"
    form = ApiTokenForm
    list_display = ["name", "shop", "prefix", "status", "created_by", "created_at", "last_used_at"]
    list_filter = ["shop", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["shop", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description=_("status"))
    def status(self, token: ApiToken) -> str:
        return str(_("active") if token.is_active else _("revoked"))

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return list(self.readonly_fields) if obj is not None else ["shop", "name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing of a token is edited; its page only shows it (revoking is the list's action).
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        """Create through ``api_token_create`` (the key exists only in this response)."""
        created = api_token_create(
            shop=form.cleaned_data["shop"],
            name=form.cleaned_data["name"],
            actor=Actor.admin(request.user.get_username()),
        )
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created.token, field.attname))
        setattr(request, _KEY_ATTRIBUTE, created.key)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = getattr(request, _KEY_ATTRIBUTE, "")
        messages.warning(
            request,
            _("The key of “%(name)s” is %(key)s — copy it now: it is not shown again.")
            % {"name": obj.name, "key": key},
        )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", revoked) % {"n": revoked},
            messages.SUCCESS,
        )
