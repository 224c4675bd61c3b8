"""The management API's URLs, mounted at ``api/v1/manage/`` (see ``backorders.api.urls``)."""

from django.urls import path

from backorders.api.management import supply, views

urlpatterns = [
    path("variants", views.VariantListView.as_view(), name="manage_variants"),
    path("variants/<str:variant_id>", views.VariantDetailView.as_view(), name="manage_variant"),
    path("restock-dates", views.RestockDatesView.as_view(), name="manage_restock_dates"),
    path("suppliers", supply.SupplierListView.as_view(), name="manage_suppliers"),
    path("suppliers/<str:supplier_id>", supply.SupplierDetailView.as_view(), name="manage_supplier"),
    path("purchase-orders", supply.PurchaseOrderListView.as_view(), name="manage_purchase_orders"),
    path(
        "purchase-orders/<str:purchase_order_id>",
        supply.PurchaseOrderDetailView.as_view(),
        name="manage_purchase_order",
    ),
    path(
        "purchase-orders/<str:purchase_order_id>/send",
        supply.PurchaseOrderSendView.as_view(),
        name="manage_purchase_order_send",
    ),
    path(
        "purchase-orders/<str:purchase_order_id>/confirm",
        supply.PurchaseOrderConfirmView.as_view(),
        name="manage_purchase_order_confirm",
    ),
    path(
        "purchase-orders/<str:purchase_order_id>/cancel",
        supply.PurchaseOrderCancelView.as_view(),
        name="manage_purchase_order_cancel",
    ),
    path(
        "purchase-orders/<str:purchase_order_id>/receive",
        supply.PurchaseOrderReceiveView.as_view(),
        name="manage_purchase_order_receive",
    ),
]
