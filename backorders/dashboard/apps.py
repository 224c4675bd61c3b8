"""Django's admin with the owner's dashboard as its first page.

Install it in place of ``"django.contrib.admin"`` in ``INSTALLED_APPS``::

    "backorders.dashboard.apps.BackordersAdminConfig",

It is Django's own ``AdminConfig`` (same templates, same ``admin.site`` and ``@admin.register``)
whose default site is ``BackordersAdminSite`` (Django's documented way to replace the default
site). This module imports nothing of the app's models: it is loaded with ``INSTALLED_APPS``.
"""

from django.contrib.admin.apps import AdminConfig


class BackordersAdminConfig(AdminConfig):
    default_site = "backorders.dashboard.site.BackordersAdminSite"
