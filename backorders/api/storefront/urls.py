"""The storefront API's URLs, mounted at ``api/v1/storefront/`` (see ``backorders.api.urls``)."""

from django.urls import path

from backorders.api.storefront import views

urlpatterns = [
    path(
        "<str:shop>/products/<str:ref>/availability",
        views.AvailabilityView.as_view(),
        name="storefront_availability",
    ),
    path("<str:shop>/quote", views.QuoteView.as_view(), name="storefront_quote"),
    path("<str:shop>/alerts", views.AlertSignupView.as_view(), name="storefront_alerts"),
]
