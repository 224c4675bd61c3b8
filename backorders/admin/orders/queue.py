"""The backorder list at a glance: its filters (status, overdue, days waiting) and the form that
moves one customer's ETA.

The filters use the dashboard's own definitions (``selectors.dashboard``), so that a dashboard
tile and the list it links to count the same rows. An unknown filter value is refused the way
Django refuses any bad lookup (``IncorrectLookupParameters``: the list says the filter is
invalid), never silently ignored.
"""

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backorders.models import Backorder, Shop
from backorders.selectors.dashboard import (
    AGE_BUCKETS,
    age_bucket_label,
    age_bucket_q,
    overdue_q,
    zones_today,
)
from backorders.services.eta import ETA_NOTE_MAX

OPEN = "open"


def request_todays(request: HttpRequest) -> dict[str, date]:
    """Today in every shop's time zone, read once per request (the filter and the list's
    ordering both need it)."""
    cached = getattr(request, "_backorders_todays", None)
    if cached is None:
        cached = zones_today(Shop.objects.values_list("timezone", flat=True).distinct())
        request._backorders_todays = cached  # type: ignore[attr-defined]
    return cached


class _ChoiceFilter(admin.SimpleListFilter):
    """A filter whose value must be one of its ``options()`` (the same whoever asks)."""

    @classmethod
    def options(cls) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return self.options()

    def value(self) -> str | None:
        value = super().value()
        if value is not None and value not in {str(key) for key, _label in self.lookup_choices}:
            raise IncorrectLookupParameters(f"{self.parameter_name}={value[:40]!r}")
        return value


class StatusFilter(_ChoiceFilter):
    title = _("status")
    parameter_name = "status"

    @classmethod
    def options(cls) -> list[tuple[str, Any]]:
        return [(OPEN, _("Open (waiting or allocated)")), *Backorder.Status.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Backorder]) -> QuerySet[Backorder]:
        value = self.value()
        if value == OPEN:
            return queryset.filter(status__in=Backorder.Status.open())
        return queryset.filter(status=value) if value else queryset


class OverdueFilter(_ChoiceFilter):
    """Open backorders whose customer's date (current ETA, else the promised one) has passed in
    their shop's time zone."""

    title = _("overdue")
    parameter_name = "overdue"

    @classmethod
    def options(cls) -> list[tuple[str, Any]]:
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Backorder]) -> QuerySet[Backorder]:
        value = self.value()
        if value == "yes":
            return queryset.filter(overdue_q(request_todays(request)))
        if value == "no":
            return queryset.exclude(overdue_q(request_todays(request)))
        return queryset


class AgeFilter(_ChoiceFilter):
    """Open backorders by whole days waiting (the dashboard's age buckets)."""

    title = _("days waiting")
    parameter_name = "age"

    @classmethod
    def options(cls) -> list[tuple[str, Any]]:
        return [(key, age_bucket_label(first, last)) for key, first, last in AGE_BUCKETS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Backorder]) -> QuerySet[Backorder]:
        value = self.value()
        return queryset.filter(age_bucket_q(value, now=timezone.now())) if value else queryset


class MoveEtaForm(forms.Form):
    """The owner's new ETA for one customer; the service checks the date against the shop's
    today (``services.eta.backorder_eta_validate``)."""

    eta = forms.DateField(
        label=_("New ETA"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("Leave empty to hand this backorder back to the automatic estimate of its queue."),
    )
    note = forms.CharField(
        label=_("Note for the audit trail"),
        required=False,
        max_length=ETA_NOTE_MAX,
        widget=forms.TextInput(attrs={"size": 60}),
    )


QUEUE_FILTERS: tuple[type[_ChoiceFilter], ...] = (StatusFilter, OverdueFilter, AgeFilter)


def filter_refusals(request: HttpRequest) -> list[str]:
    """What is wrong with the request's values for the queue's filters (empty: nothing), each
    naming the value and the ones allowed."""
    refusals = []
    for filter_class in QUEUE_FILTERS:
        value = request.GET.get(str(filter_class.parameter_name))
        if value is None:
            continue
        allowed = [str(key) for key, _label in filter_class.options()]
        if value not in allowed:
            refusals.append(
                str(
                    _("“%(value)s” is not a value of the filter “%(filter)s”; use one of: %(allowed)s.")
                    % {
                        "value": value[:40],
                        "filter": filter_class.title,
                        "allowed": ", ".join(allowed),
                    }
                )
            )
    return refusals
