"""Who may work on a shop: its memberships, on the shop's page, for superusers only.

Saved through ``services.tenancy`` (``membership_grant``/``membership_revoke``), as the
``backorders_add_shop --grant/--revoke`` command does.
"""

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import SuperuserOnlyInline
from backorders.models import Membership, Shop
from backorders.services.audit import Actor
from backorders.services.tenancy import MembershipRefused, membership_grant, membership_revoke


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def clean_user(self) -> Any:
        user = self.cleaned_data.get("user")
        if user is not None and not user.is_active:
            raise forms.ValidationError(
                _("This user is inactive and could not log in: activate the account first.")
            )
        return user


class MembershipInline(SuperuserOnlyInline):
    model = Membership
    form = MembershipForm
    fields = ["user", "role", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    raw_id_fields = ["user"]
    verbose_name = _("person who may work on this shop")
    verbose_name_plural = _("people who may work on this shop")


def memberships_save(*, request: HttpRequest, shop: Shop, formset: Any) -> None:
    """Apply the Membership inline's rows through the services, as ``request``'s user."""
    actor = Actor.admin(request.user.get_username())
    formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
    for form in formset.forms:
        membership = form.instance
        if formset._should_delete_form(form):
            if membership.pk is not None:
                membership_revoke(user=membership.user, shop=shop, actor=actor)
                formset.deleted_objects.append(membership)
            continue
        if not form.has_changed():
            continue
        user = form.cleaned_data["user"]
        if membership.pk is not None and membership.user_id != user.pk:
            membership_revoke(user=Membership.objects.get(pk=membership.pk).user, shop=shop, actor=actor)
        try:
            saved = membership_grant(user=user, shop=shop, role=form.cleaned_data["role"], actor=actor)
        except MembershipRefused as refusal:  # the form checked the same; a race is reported
            form.add_error(None, str(refusal))
            continue
        if membership.pk is None:
            formset.new_objects.append(saved)
        else:
            formset.changed_objects.append((saved, form.changed_data))


__all__ = ["MembershipInline", "memberships_save"]
