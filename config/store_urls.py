"""The demo store's URLs (``/store/…``), namespace ``store``; see config/store.py."""

from django.urls import path

from config import store

app_name = "store"

urlpatterns = [
    path("", store.catalog, name="catalog"),
    path("products/<str:handle>/", store.product, name="product"),
    path("cart/", store.cart, name="cart"),
]
