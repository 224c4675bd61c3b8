"""``manage.py backorders_add_shop DOMAIN --name NAME --email EMAIL``: connect a store.

Creates the shop, or updates it if one with that domain exists; a shop that had uninstalled the
app is active again (reconnected). Every value is validated before anything is written; a wrong
one stops the command with a message naming the option to fix.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backorders.models.shops import language_choices
from backorders.services.shops import shop_connect

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

    def handle(self, *args: Any, **options: Any) -> None:
        fields = {
            name: options[name] for name in ("language", "timezone", "currency") if options[name] is not None
        }
        if "currency" in fields:
            fields["currency"] = fields["currency"].upper()
        try:
            shop, created, reactivated = shop_connect(
                domain=options["domain"],
                name=options["name"],
                owner_email=options["email"],
                webhook_secret=options["secret"],
                **fields,
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc, options["domain"])) from exc
        verb = "Created" if created else "Reactivated" if reactivated else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} shop {shop.domain} ({shop.name}, owner {shop.owner_email}).")
        )
        if reactivated:
            self.stdout.write(
                "It had uninstalled the app; its webhooks are accepted again, and uninstall or shop "
                "redact notices from before now are ignored."
            )


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
