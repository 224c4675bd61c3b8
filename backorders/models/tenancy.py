"""Who may work on which shop in the admin: a user's membership of a shop, with a role.

A superuser sees every shop; anyone else sees exactly the shops they are a member of
(``selectors.tenancy.user_scope``), and changes them only as an owner or staff.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backorders.models.shops import Shop


class Membership(models.Model):
    """``user`` works on ``shop`` as ``role``. Written by ``services.tenancy`` only."""

    class Role(models.TextChoices):
        # Owner: everything staff may do, plus the shop's own settings. Staff: the day-to-day
        # work (policies, cancellations, shipping, resending). Viewer: reads, changes nothing.
        OWNER = "owner", _("owner")
        STAFF = "staff", _("staff")
        VIEWER = "viewer", _("viewer")

        @classmethod
        def writers(cls) -> list[str]:
            """The roles that may change a shop's rows."""
            return [cls.OWNER, cls.STAFF]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="backorders_memberships",
        verbose_name=_("user"),
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("shop")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    granted_by = models.CharField(_("granted by"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["shop", "user", "pk"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="membership_unique_user_shop"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "staff", "viewer"]), name="membership_role_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.shop} ({self.get_role_display()})"
