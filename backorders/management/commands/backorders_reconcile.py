from django.core.management.base import BaseCommand, CommandError, CommandParser

from backorders.models import Shop
from backorders.services.reconcile import stock_reconcile


class Command(BaseCommand):
    help = "Recompute every variant's stock counters from the rows and repair mismatches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="Only this shop's domain (default: all shops).")

    def handle(self, *args: object, shop: str | None = None, **options: object) -> None:
        target = None
        if shop:
            target = Shop.objects.filter(domain=shop.lower()).first()
            if target is None:
                raise CommandError(f"No shop with domain {shop!r}; see the admin's Shops list.")
        found = stock_reconcile(shop=target)
        for mismatch in found:
            self.stdout.write(
                f"variant {mismatch.variant_id}: {mismatch.field} was {mismatch.stored}, "
                f"now {mismatch.actual}"
            )
        self.stdout.write(self.style.SUCCESS(f"Reconciled: {len(found)} counter(s) repaired."))
