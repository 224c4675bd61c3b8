"""Who may work on which shop: granting and revoking a user's membership of a shop.

A membership alone opens the app's admin pages to a user (for that shop only): the admin asks
``selectors.tenancy.user_scope`` instead of Django's model permissions, so that no permission
can reach across shops. Django's admin still lets only ``is_staff`` users log in, so a grant
makes the user staff.
"""

from typing import TYPE_CHECKING

from django.db import transaction

from backorders.models import Membership, Shop
from backorders.services.audit import Actor, audit_note

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


class MembershipRefused(Exception):
    """The membership cannot be granted or revoked as asked; the message says why and what to do."""


def _role_checked(role: str) -> str:
    if role not in Membership.Role.values:
        raise MembershipRefused(
            f"“{role[:40]}” is not a role; use one of: {', '.join(Membership.Role.values)}."
        )
    return role


@transaction.atomic
def membership_grant(*, user: "AbstractUser", shop: Shop, role: str, actor: Actor) -> Membership:
    """Let ``user`` work on ``shop`` as ``role`` (owner, staff or viewer), replacing any role they
    had there; the user becomes ``is_staff`` (needed to log into the admin). Refused
    (``MembershipRefused``) for an unknown role or an inactive user."""
    role = _role_checked(role)
    if not getattr(user, "is_active", False):
        raise MembershipRefused(
            f"The user {user} is inactive and could not log in: activate the account first."
        )
    membership, _created = Membership.objects.select_for_update().update_or_create(
        user_id=user.pk, shop=shop, defaults={"role": role, "granted_by": f"{actor.kind}:{actor.name}"[:255]}
    )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_note(actor=actor, action="membership granted", subject=f"{user} on {shop.domain} as {role}")
    return membership


@transaction.atomic
def membership_revoke(*, user: "AbstractUser", shop: Shop, actor: Actor) -> bool:
    """Take ``shop`` away from ``user``; whether they had a membership there. The user stays
    ``is_staff`` (the project's other admin pages may need it), but sees nothing of the shop."""
    deleted, _by_model = Membership.objects.filter(user_id=user.pk, shop=shop).delete()
    if deleted:
        audit_note(actor=actor, action="membership revoked", subject=f"{user} on {shop.domain}")
    return bool(deleted)


__all__ = ["MembershipRefused", "membership_grant", "membership_revoke"]
