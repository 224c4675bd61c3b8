"""``manage.py backorders_add_shop DOMAIN --name NAME --email EMAIL``: connect a store.

Creates the shop, or updates it if one with that domain exists; a shop that had uninstalled the
app is active again (reconnected). Every value is validated before anything is written; a wrong
one stops the command with a message naming the option to fix.

``--grant USER:ROLE`` (repeatable) lets an existing user work on the shop in the admin as owner,
staff or viewer; ``--revoke USER`` (repeatable) takes it away. Users and roles are checked before
anything is written, and the whole command is one transaction.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from backorders.models import Membership
from backorders.models.shops import language_choices
from backorders.services.audit import Actor
from backorders.services.shops import shop_connect
from backorders.services.tenancy import MembershipRefused, membership_grant, membership_revoke

# Model field -> how the user typed it, so that errors name the option to fix.
OPTION_OF_FIELD = {
    "domain": "DOMAIN",
    "name": "--name",
    "owner_email": "--email",
    "webhook_secret": "--secret",
    "language": "--language",
    "timezone": "--timezone",
    "currency": "--currency",
}


class Command(BaseCommand):
    help = (
        "Connect a store by its platform domain: create the shop, or update it (and reactivate it "
        "if it had uninstalled the app)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "domain", metavar="DOMAIN", help="The shop's platform domain, e.g. name.myshopify.com."
        )
        parser.add_argument("--name", required=True, help="The shop's display name.")
        parser.add_argument("--email", required=True, help="The owner's email address (digests, alerts).")
        parser.add_argument(
            "--secret",
            help=(
                "Per-shop webhook secret; omit it to keep the current one (none: SHOPIFY_API_SECRET "
                "verifies webhooks); '' removes it."
            ),
        )
        parser.add_argument(
            "--language",
            help="Language of customer emails: one of the languages the app ships, "
            f"{_language_codes()} (default: en).",
        )
        parser.add_argument(
            "--timezone", help="The shop's time zone for ETAs, e.g. Europe/Berlin (default: UTC)."
        )
        parser.add_argument("--currency", help="ISO 4217 currency code, e.g. EUR (default: USD).")
        parser.add_argument(
            "--grant",
            action="append",
            default=[],
            metavar="USER:ROLE",
            help=(
                "Let the user (by username) work on this shop in the admin: owner (also the shop's "
                "settings), staff (day-to-day changes) or viewer (reads only). Repeatable."
            ),
        )
        parser.add_argument(
            "--revoke",
            action="append",
            default=[],
            metavar="USER",
            help="Take this shop away from the user (by username). Repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fields = {
            name: options[name] for name in ("language", "timezone", "currency") if options[name] is not None
        }
        if "currency" in fields:
            fields["currency"] = fields["currency"].upper()
        grants = [_grant_parsed(value) for value in options["grant"]]
        revokes = [_user(value[:MAX_USERNAME]) for value in options["revoke"]]
        try:
            with transaction.atomic():
                shop, created, reactivated = self._connect(options, fields)
                actor = Actor.system("backorders_add_shop")
                for user in revokes:
                    if not membership_revoke(user=user, shop=shop, actor=actor):
                        self.stdout.write(f"{user.get_username()} had no access to {shop.domain}.")
                    else:
                        self.stdout.write(f"Revoked {user.get_username()}'s access to {shop.domain}.")
                for user, role in grants:
                    membership_grant(user=user, shop=shop, role=role, actor=actor)
                    self.stdout.write(f"Granted {user.get_username()} the role {role} on {shop.domain}.")
        except MembershipRefused as exc:
            raise CommandError(f"Nothing was saved: {exc}") from exc
        verb = "Created" if created else "Reactivated" if reactivated else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} shop {shop.domain} ({shop.name}, owner {shop.owner_email}).")
        )
        if reactivated:
            self.stdout.write(
                "It had uninstalled the app; its webhooks are accepted again, and uninstall or shop "
                "redact notices from before now are ignored."
            )

    def _connect(self, options: dict[str, Any], fields: dict[str, Any]) -> Any:
        try:
            return shop_connect(
                domain=options["domain"],
                name=options["name"],
                owner_email=options["email"],
                webhook_secret=options["secret"],
                **fields,
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc, options["domain"])) from exc


MAX_USERNAME = 150
ROLES = ", ".join(Membership.Role.values)


def _user(username: str) -> Any:
    """The user named ``username``, or a CommandError saying there is none."""
    try:
        return get_user_model()._default_manager.get_by_natural_key(username)
    except ObjectDoesNotExist:
        raise CommandError(
            f"There is no user {username!r}: create it first (manage.py createsuperuser, or the "
            "admin's Users page), then run the command again. Nothing was saved."
        ) from None


def _grant_parsed(value: str) -> tuple[Any, str]:
    """``USER:ROLE`` as (user, role); a CommandError for a malformed value, an unknown role or
    user."""
    username, colon, role = value[: MAX_USERNAME + 20].rpartition(":")
    if not colon or not username:
        raise CommandError(f"--grant {value[:60]!r}: write USER:ROLE, e.g. --grant ada:staff ({ROLES}).")
    role = role.strip().lower()
    if role not in Membership.Role.values:
        raise CommandError(f"--grant {value[:60]!r}: {role[:20]!r} is not a role; use one of: {ROLES}.")
    return _user(username), role


def _describe(exc: ValidationError, domain: str) -> str:
    """One line per wrong value, naming the option as the user typed it."""
    lines = [f"The shop {domain!r} was not saved; fix these values and run the command again:"]
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    for field, messages in errors.items():
        label = OPTION_OF_FIELD.get(field, field)
        if field == "language":
            messages = [*messages, f"Choose one of: {_language_codes()}."]
        lines.extend(f"  {label}: {message}" if label else f"  {message}" for message in messages)
    return "\n".join(lines)


def _language_codes() -> str:
    return ", ".join(code for code, _name in language_choices())
