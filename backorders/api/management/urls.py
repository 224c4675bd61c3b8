"""The management API's URLs, mounted at ``api/v1/manage/`` (see ``backorders.api.urls``)."""

from django.urls import path

from backorders.api.management import views

urlpatterns = [
    path("variants", views.VariantListView.as_view(), name="manage_variants"),
    path("variants/<str:variant_id>", views.VariantDetailView.as_view(), name="manage_variant"),
    path("restock-dates", views.RestockDatesView.as_view(), name="manage_restock_dates"),
]
