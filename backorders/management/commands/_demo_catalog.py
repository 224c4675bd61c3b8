"""The demo store's data: a catalog, two locations and a few past orders (used by
``backorders_seed_demo``).

Numbers are fixed and platform ids derive from them, so the seed finds what it created before:
never renumber an entry, only add new ones. Stock, limits and orders are chosen so that every
availability state shows up (in stock, low, out of stock, backorder, discontinued), and so that
the past orders leave backorders waiting, allocated (a delivery came in) and flagged (the platform
sold beyond a limit or a deny policy).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SHOP_DOMAIN = "demo-store.myshopify.com"
SHOP_NAME = "Demo Store"
SHOP_OWNER_EMAIL = "owner@demo-store.example"
# Set when the shop is first created; afterwards the owner's edits win.
SHOP_SETTINGS: dict[str, Any] = {
    "from_email": "hello@demo-store.example",
    "timezone": "America/New_York",
    "currency": "USD",
    "handling_days": 2,
    "restock_lead_days": 14,  # ETA of backorderable items without a manual restock date
}

ADMIN_USERNAME = "demo"
ADMIN_PASSWORD = "demo-password-123"
ADMIN_EMAIL = "demo@demo-store.example"

# Shopify-sized ids, disjoint per kind.
PRODUCT_ID_BASE = 8_000_000_000_000
VARIANT_ID_BASE = 44_000_000_000_000
INVENTORY_ITEM_ID_BASE = 46_000_000_000_000
LOCATION_ID_BASE = 70_000_000_000
ORDER_ID_BASE = 5_600_000_000_000
LINE_ID_BASE = 14_000_000_000_000

DENY, CONTINUE = "deny", "continue"  # the platform's inventory policy


@dataclass(frozen=True)
class DemoLocation:
    number: int
    name: str


@dataclass(frozen=True)
class DemoVariant:
    sku: str
    price: Decimal
    title: str = "Default Title"
    policy: str = DENY
    stock: tuple[int, int] = (0, 0)  # available at each of LOCATIONS
    backorder_limit: int | None = None
    restock_in_days: int | None = None  # the owner's manual ETA: today + n days
    restock_note: str = ""
    # After the past orders, a delivery sets "available" at the first location to this (the
    # platform's number: on hand minus everything committed, so negative if still short).
    delivered_to: int | None = None


@dataclass(frozen=True)
class DemoProduct:
    number: int
    title: str
    product_type: str
    vendor: str
    tags: tuple[str, ...]
    variants: tuple[DemoVariant, ...]
    status: str = "active"
    discontinued: bool = False


@dataclass(frozen=True)
class DemoLine:
    sku: str | None  # None: a custom item (no variant), stored but never backordered
    quantity: int
    title: str = ""


@dataclass(frozen=True)
class DemoOrder:
    number: int
    days_ago: int
    customer: str
    email: str
    lines: tuple[DemoLine, ...]
    locale: str = "en"


def product_platform_id(product: DemoProduct) -> int:
    return PRODUCT_ID_BASE + product.number


def variant_platform_id(product: DemoProduct, position: int) -> int:
    return VARIANT_ID_BASE + product.number * 100 + position


def inventory_item_id(product: DemoProduct, position: int) -> int:
    return INVENTORY_ITEM_ID_BASE + product.number * 100 + position


def order_platform_id(order: DemoOrder) -> int:
    return ORDER_ID_BASE + order.number


def line_platform_id(order: DemoOrder, position: int) -> int:
    return LINE_ID_BASE + order.number * 100 + position


LOCATIONS = (
    DemoLocation(1, "Main warehouse"),
    DemoLocation(2, "Downtown store"),
)

V = DemoVariant
D = Decimal

CATALOG: tuple[DemoProduct, ...] = (
    # Apparel — Northwind Outfitters
    DemoProduct(
        1,
        "Organic Cotton Crew Tee",
        "Apparel",
        "Northwind Outfitters",
        ("cotton", "basics", "organic"),
        (
            V("NW-TEE-CRW-S", D("28.00"), "S", stock=(14, 6)),
            V("NW-TEE-CRW-M", D("28.00"), "M", stock=(2, 0)),
            V("NW-TEE-CRW-L", D("28.00"), "L"),
        ),
    ),
    DemoProduct(
        2,
        "Heavyweight Pocket Tee",
        "Apparel",
        "Northwind Outfitters",
        ("cotton", "basics"),
        (
            V("NW-TEE-PKT-BLK", D("34.00"), "Black", stock=(25, 10)),
            V("NW-TEE-PKT-WHT", D("34.00"), "White", stock=(1, 1)),
            V("NW-TEE-PKT-OLV", D("34.00"), "Olive", CONTINUE, restock_in_days=12),
        ),
    ),
    DemoProduct(
        3,
        "Selvedge Denim Jacket",
        "Apparel",
        "Northwind Outfitters",
        ("denim", "outerwear"),
        (
            V("NW-JKT-DNM-S", D("148.00"), "S", CONTINUE, backorder_limit=5, restock_in_days=30),
            V("NW-JKT-DNM-M", D("148.00"), "M", CONTINUE, backorder_limit=5, restock_in_days=30),
            V("NW-JKT-DNM-L", D("148.00"), "L", stock=(3, 0)),
        ),
    ),
    DemoProduct(
        4,
        "Linen Camp Shirt",
        "Apparel",
        "Northwind Outfitters",
        ("linen", "summer"),
        (
            V("NW-SHT-LIN-SND", D("72.00"), "Sand", stock=(8, 4)),
            V("NW-SHT-LIN-SKY", D("72.00"), "Sky"),
        ),
    ),
    DemoProduct(
        5,
        "Recycled Fleece Hoodie",
        "Apparel",
        "Northwind Outfitters",
        ("fleece", "recycled", "outerwear"),
        (
            V("NW-HOOD-FLC-CHR", D("89.00"), "Charcoal", stock=(18, 7)),
            V("NW-HOOD-FLC-HTR", D("89.00"), "Heather", CONTINUE),
        ),
    ),
    # Knitwear — Alpine Thread Co.
    DemoProduct(
        6,
        "Merino Rib Beanie",
        "Knitwear",
        "Alpine Thread Co.",
        ("merino", "wool", "accessories"),
        (V("AT-BEANIE-MER", D("32.00"), stock=(40, 12)),),
    ),
    DemoProduct(
        7,
        "Lambswool Crew Sweater",
        "Knitwear",
        "Alpine Thread Co.",
        ("wool", "sweaters"),
        (
            V("AT-SWT-LMB-S", D("129.00"), "S", CONTINUE, backorder_limit=10, restock_in_days=21),
            V(
                "AT-SWT-LMB-M",
                D("129.00"),
                "M",
                CONTINUE,
                backorder_limit=10,
                restock_in_days=21,
                restock_note="Second batch from the mill",
                delivered_to=-1,
            ),
            V("AT-SWT-LMB-L", D("129.00"), "L", stock=(2, 1)),
        ),
    ),
    DemoProduct(
        8,
        "Cable Knit Cardigan",
        "Knitwear",
        "Alpine Thread Co.",
        ("wool", "sweaters", "handmade"),
        (V("AT-CRD-CBL", D("159.00"), policy=CONTINUE, backorder_limit=3, restock_in_days=45),),
    ),
    DemoProduct(
        9,
        "Alpaca Blend Scarf",
        "Knitwear",
        "Alpine Thread Co.",
        ("alpaca", "accessories"),
        (V("AT-SCF-ALP", D("58.00")),),
    ),
    DemoProduct(
        10,
        "Fair Isle Wool Mittens",
        "Knitwear",
        "Alpine Thread Co.",
        ("wool", "accessories"),
        (V("AT-MIT-FAI", D("44.00"), stock=(2, 0)),),
        discontinued=True,
    ),
    # Cookware — Copperleaf Kitchen
    DemoProduct(
        11,
        'Cast Iron Skillet 10"',
        "Cookware",
        "Copperleaf Kitchen",
        ("cast iron", "skillets"),
        (V("CK-SKL-CI-10", D("65.00"), stock=(22, 5)),),
    ),
    DemoProduct(
        12,
        'Cast Iron Skillet 12"',
        "Cookware",
        "Copperleaf Kitchen",
        ("cast iron", "skillets"),
        (V("CK-SKL-CI-12", D("85.00"), stock=(1, 0)),),
    ),
    DemoProduct(
        13,
        "Enameled Dutch Oven 5.5 qt",
        "Cookware",
        "Copperleaf Kitchen",
        ("enamel", "cast iron", "gift"),
        (
            V("CK-DO-55-CHR", D("189.00"), "Cherry", CONTINUE, backorder_limit=8, restock_in_days=14),
            V("CK-DO-55-SLT", D("189.00"), "Sea Salt", stock=(4, 2)),
            V("CK-DO-55-GRP", D("189.00"), "Graphite", CONTINUE),
        ),
    ),
    DemoProduct(
        14,
        "Carbon Steel Wok",
        "Cookware",
        "Copperleaf Kitchen",
        ("carbon steel",),
        (V("CK-WOK-CS-14", D("74.00"), stock=(11, 3)),),
    ),
    DemoProduct(
        15,
        "Copper Saucepan 2 qt",
        "Cookware",
        "Copperleaf Kitchen",
        ("copper",),
        (V("CK-SAU-CU-2", D("210.00")),),
        status="archived",
    ),
    DemoProduct(
        16,
        "Walnut Cutting Board",
        "Kitchen tools",
        "Copperleaf Kitchen",
        ("walnut", "gift"),
        (
            V("CK-BRD-WAL-S", D("96.00"), "Small", stock=(6, 2)),
            V("CK-BRD-WAL-L", D("128.00"), "Large"),
        ),
    ),
    DemoProduct(
        17,
        "Chef's Knife 8\"",
        "Kitchen tools",
        "Copperleaf Kitchen",
        ("knives", "gift"),
        (V("CK-KNF-CHF-8", D("139.00"), stock=(9, 1)),),
    ),
    # Lighting — Lumen & Oak
    DemoProduct(
        18,
        "Oak Table Lamp",
        "Lighting",
        "Lumen & Oak",
        ("oak", "lamps"),
        (
            V("LO-LMP-OAK-NAT", D("165.00"), "Natural", stock=(3, 0)),
            V("LO-LMP-OAK-SMK", D("165.00"), "Smoked", CONTINUE, backorder_limit=4, restock_in_days=25),
        ),
    ),
    DemoProduct(
        19,
        "Brass Pendant Light",
        "Lighting",
        "Lumen & Oak",
        ("brass", "pendants"),
        (V("LO-PND-BRS", D("230.00"), policy=CONTINUE, restock_in_days=40, restock_note="Made to order"),),
    ),
    DemoProduct(
        20,
        "Linen Lamp Shade",
        "Lighting",
        "Lumen & Oak",
        ("linen", "lamps"),
        (V("LO-SHD-LIN", D("48.00"), stock=(15, 5)),),
    ),
    DemoProduct(
        21,
        "Edison Bulb 3-Pack",
        "Lighting",
        "Lumen & Oak",
        ("bulbs",),
        (V("LO-BLB-EDI-3", D("18.00"), stock=(120, 30)),),
    ),
    DemoProduct(
        22,
        "Rattan Floor Lamp",
        "Lighting",
        "Lumen & Oak",
        ("rattan", "lamps"),
        (V("LO-FLR-RAT", D("275.00")),),
        discontinued=True,
    ),
    # Coffee — Blue Harbor Roasters
    DemoProduct(
        23,
        "Harbor House Blend 12 oz",
        "Coffee",
        "Blue Harbor Roasters",
        ("coffee", "blend"),
        (
            V("BH-HOUSE-12-WB", D("17.50"), "Whole bean", stock=(60, 20)),
            V("BH-HOUSE-12-GR", D("17.50"), "Ground", stock=(35, 10)),
        ),
    ),
    DemoProduct(
        24,
        "Ethiopia Guji Single Origin 12 oz",
        "Coffee",
        "Blue Harbor Roasters",
        ("coffee", "single origin", "seasonal"),
        (
            V(
                "BH-GUJI-12-WB",
                D("21.00"),
                "Whole bean",
                CONTINUE,
                backorder_limit=20,
                restock_in_days=10,
                restock_note="New harvest lot",
                delivered_to=5,
            ),
            V("BH-GUJI-12-GR", D("21.00"), "Ground", stock=(2, 0)),
        ),
    ),
    DemoProduct(
        25,
        "Decaf Swiss Water Blend 12 oz",
        "Coffee",
        "Blue Harbor Roasters",
        ("coffee", "decaf"),
        (V("BH-DECAF-12", D("18.50")),),
    ),
    DemoProduct(
        26,
        "Ceramic Pour-Over Dripper",
        "Coffee gear",
        "Blue Harbor Roasters",
        ("brewing", "ceramic"),
        (V("BH-DRIP-CER", D("34.00"), stock=(12, 4)),),
    ),
    DemoProduct(
        27,
        "Gooseneck Kettle",
        "Coffee gear",
        "Blue Harbor Roasters",
        ("brewing", "kettles"),
        (
            V("BH-KTL-GN-BLK", D("79.00"), "Matte Black", CONTINUE),
            V("BH-KTL-GN-SST", D("79.00"), "Stainless", stock=(5, 1)),
        ),
    ),
    # Outdoor — Trailhead Gear
    DemoProduct(
        28,
        "Ultralight Trekking Poles",
        "Outdoor",
        "Trailhead Gear",
        ("hiking", "carbon"),
        (V("TH-POLE-UL", D("119.00"), stock=(7, 0)),),
    ),
    DemoProduct(
        29,
        "Waxed Canvas Daypack",
        "Outdoor",
        "Trailhead Gear",
        ("bags", "canvas"),
        (
            V("TH-PACK-WAX-TAN", D("145.00"), "Field Tan", CONTINUE, backorder_limit=6, restock_in_days=20),
            V("TH-PACK-WAX-FOR", D("145.00"), "Forest", stock=(2, 0)),
        ),
    ),
    DemoProduct(
        30,
        "Insulated Water Bottle 32 oz",
        "Outdoor",
        "Trailhead Gear",
        ("bottles", "stainless steel"),
        (
            V("TH-BTL-32-GLC", D("36.00"), "Glacier", stock=(30, 10)),
            V("TH-BTL-32-EMB", D("36.00"), "Ember"),
        ),
    ),
    DemoProduct(
        31,
        "Down Camp Blanket",
        "Outdoor",
        "Trailhead Gear",
        ("down", "camping"),
        (V("TH-BLK-DWN", D("199.00")),),
        status="archived",
    ),
    DemoProduct(
        32,
        "Headlamp 400 Lumen",
        "Outdoor",
        "Trailhead Gear",
        ("lighting", "camping"),
        (V("TH-HDL-400", D("42.00"), stock=(1, 1)),),
    ),
    # In stock now: what the demo's out-of-stock knitwear (the scarf; the cardigan, over its
    # backorder limit) offers as alternatives.
    DemoProduct(
        33,
        "Merino Shawl Collar Cardigan",
        "Knitwear",
        "Alpine Thread Co.",
        ("merino", "wool", "sweaters"),
        (V("AT-CRD-SHL", D("149.00"), stock=(6, 2)),),
    ),
    DemoProduct(
        34,
        "Cashmere Blend Scarf",
        "Knitwear",
        "Alpine Thread Co.",
        ("cashmere", "alpaca", "accessories"),
        (V("AT-SCF-CSH", D("64.00"), stock=(9, 3)),),
    ),
)

# One product per availability state, for the demo store's pages and the README (by handle;
# /store/products/<handle>/).
STATE_EXAMPLES: dict[str, str] = {
    "in_stock": "merino-rib-beanie",
    "low_stock": "cast-iron-skillet-12",
    "backorder": "brass-pendant-light",  # a manual restock date: "Backorder — ships by …"
    "over_limit": "cable-knit-cardigan",  # backorderable, but its limit of 3 is taken: notify me
    "out_of_stock": "alpaca-blend-scarf",  # not backorderable: notify me, alternatives
    "discontinued": "rattan-floor-lamp",
}

L = DemoLine

# Oldest first: the backorder queue follows the order in which they were placed.
ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(1001, 18, "Ada Lindqvist", "ada.lindqvist@example.com", (L("NW-TEE-PKT-OLV", 2),)),
    DemoOrder(
        1002,
        15,
        "Marco Bellini",
        "marco.bellini@example.com",
        (L("NW-JKT-DNM-S", 1), L("NW-JKT-DNM-L", 1)),
    ),
    DemoOrder(1003, 14, "Hannah Weber", "hannah.weber@example.de", (L("AT-SWT-LMB-M", 2),), locale="de"),
    DemoOrder(1004, 12, "Samir Haddad", "samir.haddad@example.com", (L("AT-CRD-CBL", 2),)),
    DemoOrder(
        1005, 11, "Grace Okafor", "grace.okafor@example.com", (L("AT-SWT-LMB-M", 1), L("AT-BEANIE-MER", 1))
    ),
    DemoOrder(
        1006,
        9,
        "Lena Fischer",
        "lena.fischer@example.de",
        (L("CK-DO-55-CHR", 1), L("CK-DO-55-SLT", 1), L(None, 1, "Gift wrapping")),
        locale="de",
    ),
    # Sold by the platform beyond the cardigan's limit of 3 (2 already waiting): flagged.
    DemoOrder(1007, 7, "Tom Becker", "tom.becker@example.com", (L("AT-CRD-CBL", 2),)),
    # Sold by the platform although the scarf does not continue selling: flagged.
    DemoOrder(1008, 6, "Yuki Tanaka", "yuki.tanaka@example.com", (L("AT-SCF-ALP", 1),)),
    DemoOrder(1009, 5, "Priya Nair", "priya.nair@example.com", (L("NW-HOOD-FLC-HTR", 1),)),
    DemoOrder(1010, 4, "Oliver Grant", "oliver.grant@example.com", (L("LO-PND-BRS", 1), L("LO-SHD-LIN", 2))),
    DemoOrder(1011, 3, "Sofia Romero", "sofia.romero@example.com", (L("BH-GUJI-12-WB", 3),)),
    DemoOrder(
        1012,
        1,
        "Noah Williams",
        "noah.williams@example.com",
        (L("NW-TEE-CRW-S", 2), L("CK-SKL-CI-10", 1), L("BH-HOUSE-12-WB", 2)),
    ),
)
