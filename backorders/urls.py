"""The app's URLs; a host project includes them with ``path("", include("backorders.urls"))``."""

from django.urls import include, path

from backorders.platforms.shopify import app_proxy
from backorders.platforms.shopify import views as shopify
from backorders.selfservice import alerts
from backorders.selfservice import views as selfservice

app_name = "backorders"

urlpatterns = [
    # Platform webhooks, with and without the trailing slash: the platform counts a redirect as a
    # failure, so neither form may ever be redirected (APPEND_SLASH) to the other. First in the
    # list: the busiest URL, resolved with the fewest patterns tried.
    path("webhooks/shopify", shopify.shopify_webhook, name="shopify_webhook"),
    path("webhooks/shopify/", shopify.shopify_webhook),
    # The storefront API (anonymous, CORS for each shop's origins), its schema and docs.
    path("api/", include("backorders.api.urls")),
    # The platform's App Proxy (signed requests forwarded from /<prefix>/… on the shop's domain).
    path(
        "shopify/proxy/products/<str:ref>/availability",
        app_proxy.ProxyAvailabilityView.as_view(),
        name="app_proxy_availability",
    ),
    path("shopify/proxy/alerts", app_proxy.ProxyAlertSignupView.as_view(), name="app_proxy_alerts"),
    # The customer's self-service pages (signed links from emails).
    path("backorders/order/<str:token>/", selfservice.order_page, name="selfservice_order"),
    path(
        "backorders/order/<str:token>/cancel/<int:backorder_id>/",
        selfservice.order_cancel,
        name="selfservice_cancel",
    ),
    path("backorders/order/<str:token>/renew/", selfservice.order_link_renew, name="selfservice_renew"),
    path("backorders/unsubscribe/<str:token>/", selfservice.unsubscribe, name="unsubscribe"),
    # Restock alerts ("notify me"): the sign-up form's target, and the signed links in its emails.
    path("backorders/alerts/signup/", alerts.alert_signup_view, name="alert_signup"),
    path("backorders/alerts/confirm/<str:token>/", alerts.alert_confirm_view, name="alert_confirm"),
    path(
        "backorders/alerts/unsubscribe/<str:token>/", alerts.alert_unsubscribe_view, name="alert_unsubscribe"
    ),
]
