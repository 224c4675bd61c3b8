from django.contrib import admin
from django.urls import include, path

# The admin's "View site" link: hidden until the project has a store page to lead to.
admin.site.site_url = None

urlpatterns = [
    # First: the platform's webhooks are the busiest URL, and the admin's many patterns would
    # otherwise be tried before them on every request (none of these prefixes overlap).
    path("", include("backorders.urls")),
    path("admin/", admin.site.urls),
    # Email providers' tracking webhooks (delivered, bounced, complained…), protected by
    # ANYMAIL_WEBHOOK_SECRET (basic auth) and the provider's signature where it has one.
    path("anymail/", include("anymail.urls")),
]
