"""Precompute of the ranked alternatives for a whole shop of N products (default 100,000).

    .venv/bin/python bench/alternatives_precompute.py [--products 100000] [--seed 7]

Seeds a shop in PostgreSQL (DATABASE_URL, default a local ``backorders_bench`` database) with N
active products of 1–3 variants each, over 60 product types, a vocabulary of 3,000 tags (a few
generic ones on a third of the catalog) and 400 vendors, then runs ``alternatives_compute`` for
the whole shop once and prints its wall time, the rows written, the peak memory the Python heap
reached (tracemalloc, on a second run) and the process's peak resident size. Target: < 60 s.
"""

import argparse
import random
import resource
import time
import tracemalloc
from decimal import Decimal

from _setup import setup

setup()

from django.db import connection  # noqa: E402

from backorders.models import Product, ProductAlternative, Shop, Variant  # noqa: E402
from backorders.services.alternatives import alternatives_compute  # noqa: E402

WORDS = "mug cup bowl plate lamp chair desk shelf sofa rug vase jar pot pan kettle glass bottle".split()
ADJECTIVES = "blue red green black white small large ceramic steel wooden glass linen oak round".split()
GENERIC = ["sale", "new", "gift", "bestseller", "eco"]


def seed(products: int, rng: random.Random) -> Shop:
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    tags = [f"tag-{n}" for n in range(3000)]
    rows = []
    for n in range(products):
        product_tags = rng.sample(tags, rng.randint(1, 5))
        if rng.random() < 0.35:
            product_tags.append(rng.choice(GENERIC))
        rows.append(
            Product(
                shop=shop,
                title=f"{rng.choice(ADJECTIVES)} {rng.choice(ADJECTIVES)} {rng.choice(WORDS)} {n}",
                product_type=f"type-{rng.randrange(60)}",
                vendor=f"vendor-{rng.randrange(400)}",
                tags=product_tags,
            )
        )
    created = Product.objects.bulk_create(rows, batch_size=5000)
    variants = []
    for product in created:
        base = rng.lognormvariate(3.5, 0.8)
        for _ in range(rng.randint(1, 3)):
            price = Decimal(str(round(base * rng.uniform(0.9, 1.1), 2)))
            variants.append(Variant(shop=shop, product=product, price=price, available=rng.randint(-2, 20)))
    Variant.objects.bulk_create(variants, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return shop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with connection.cursor() as cursor:  # the previous run's deleted rows
        cursor.execute(f"VACUUM ANALYZE {ProductAlternative._meta.db_table}")
    started = time.perf_counter()
    shop = seed(args.products, random.Random(args.seed))
    print(
        f"seeded {args.products} products, {Variant.objects.filter(shop=shop).count()} variants "
        f"in {time.perf_counter() - started:.1f} s"
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    written = alternatives_compute(shop=shop)
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"alternatives_compute, whole shop: {elapsed:.1f} s for {args.products} products "
        f"({written} rows, {written / args.products:.1f} per product; target < 60 s)"
    )
    print(f"process peak RSS: {rss_before:.0f} MiB before the run, {rss_after:.0f} MiB after")
    # A second run replaces every list (the nightly case), under tracemalloc (which slows
    # Python down severalfold, hence not the timed run) for the Python heap's peak.
    tracemalloc.start()
    started = time.perf_counter()
    alternatives_compute(shop=shop)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"second run (every list replaced, under tracemalloc): {time.perf_counter() - started:.1f} s, "
        f"peak Python heap {peak / 2**20:.0f} MiB"
    )
    Shop.objects.filter(pk=shop.pk).delete()


if __name__ == "__main__":
    main()
