from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Email providers' tracking webhooks (delivered, bounced, complained…), protected by
    # ANYMAIL_WEBHOOK_SECRET (basic auth) and the provider's signature where it has one.
    path("anymail/", include("anymail.urls")),
    path("", include("backorders.urls")),
]
