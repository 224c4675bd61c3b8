"""The app's URLs; a host project includes them with ``path("", include("backorders.urls"))``."""

app_name = "backorders"
urlpatterns: list = []
