from django.contrib import admin
from django.urls import include, path

# The admin's "View site" link opens the demo store.
admin.site.site_url = "/store/"

urlpatterns = [
    # First: the platform's webhooks are the busiest URL, and the admin's many patterns would
    # otherwise be tried before them on every request (none of these prefixes overlap).
    path("", include("backorders.urls")),
    path("admin/", admin.site.urls),
    # The standalone project's demo store (config/store.py), built from the app's template tags.
    path("store/", include("config.store_urls")),
    # Email providers' tracking webhooks (delivered, bounced, complained…), protected by
    # ANYMAIL_WEBHOOK_SECRET (basic auth) and the provider's signature where it has one.
    path("anymail/", include("anymail.urls")),
]
