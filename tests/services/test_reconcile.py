from django.core.management import call_command

from backorders.models import Variant
from backorders.services.reconcile import stock_reconcile
from tests.conftest import fresh


def test_reconcile_repairs_drifted_counters_and_allocates_what_was_hidden(make_variant, place, caplog):
    variant = make_variant(inventory_policy="continue")
    place({variant: 2}, accepted=True)
    # Simulate drift: the counters say more stock and nobody waiting.
    Variant.objects.filter(pk=variant.pk).update(available=5, units_waiting=0)

    found = stock_reconcile()

    assert {(m.field, m.stored, m.actual) for m in found} == {("available", 5, -2), ("units_waiting", 0, 2)}
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)
    assert "repaired" in caplog.text
    assert stock_reconcile() == []


def test_reconcile_command_reports(make_variant, place, capsys):
    variant = make_variant(inventory_policy="continue")
    place({variant: 1}, accepted=True)
    Variant.objects.filter(pk=variant.pk).update(units_waiting=3)
    call_command("backorders_reconcile")
    assert "units_waiting was 3, now 1" in capsys.readouterr().out
