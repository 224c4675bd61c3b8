from django.urls import include, path

from bench.webhooks_ingest_site import views

urlpatterns = [
    path("bench/bare", views.bare),
    path("bench/insert", views.insert),
    path("", include("config.urls")),
]
