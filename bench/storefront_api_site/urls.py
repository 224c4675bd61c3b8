from django.urls import include, path

from bench.storefront_api_site import views

urlpatterns = [
    path("bench/bare", views.BareView.as_view()),
    path("", include("config.urls")),
]
