"""Offline evaluation of the alternatives: precision@4 against known substitute groups.

    .venv/bin/python bench/alternatives_eval.py [--groups 600] [--seed 11]

A seeded synthetic catalog in PostgreSQL (DATABASE_URL, default a local ``backorders_bench``
database): groups of 5–9 true substitutes. A group has one product type (shared with many other
groups: 12 types in all), a core of 4 specific tags of which each member carries 1–3, a main
vendor that 60% of its members have (the others: any of 40 vendors), a base price that members
vary around (lognormal, sigma 0.2) and a two-word title core of which each member keeps one word
or both, plus its own colour or size. Noise: a third of the products carry a generic tag shared
across the catalog, one in four carries a specific tag of another group of the same type, and
groups of one type sit in overlapping price ranges.

Every product is in stock; ``alternatives_compute`` ranks the whole shop and, for every product,
``product_alternatives(limit=4)`` (the customer's read) is compared with its group: precision@4
= the share of the 4 shown that are true substitutes. The baseline is 4 random products of the
same type. Prints both and their ratio; targets: precision@4 >= 0.7 and >= 1.5x the baseline.
"""

import argparse
import random
import statistics
import time
from decimal import Decimal

from _setup import setup

setup()

from backorders.models import Product, Shop, Variant  # noqa: E402
from backorders.selectors.alternatives import product_alternatives  # noqa: E402
from backorders.services.alternatives import alternatives_compute  # noqa: E402

NOUNS = "mug cup bowl plate lamp chair desk shelf sofa rug vase jar pot pan kettle glass bottle tray".split()
STYLES = "nordic rustic classic modern vintage retro urban alpine coastal studio heritage minimal".split()
COLOURS = "blue red green black white grey yellow pink navy olive sand teal".split()
SIZES = "small medium large xl mini tall wide".split()
GENERIC = ["sale", "new", "gift", "bestseller"]


def seed(groups: int, rng: random.Random) -> tuple[Shop, dict[int, int]]:
    shop = Shop.objects.create(
        domain=f"bench-eval-{time.time_ns()}.myshopify.com", name="Eval", owner_email="e@x.io"
    )
    types = [f"Type {n}" for n in range(12)]
    vendors = [f"Vendor {n}" for n in range(40)]
    specs = []
    for g in range(groups):
        specs.append(
            {
                "type": rng.choice(types),
                "tags": [f"g{g}-tag{k}" for k in range(4)],
                "vendor": rng.choice(vendors),
                "price": rng.lognormvariate(3.4, 0.5),
                "title": (rng.choice(STYLES), rng.choice(NOUNS)),
                "size": rng.randint(5, 9),
            }
        )
    by_type: dict[str, list[int]] = {}
    for g, spec in enumerate(specs):
        by_type.setdefault(spec["type"], []).append(g)
    products, group_of, prices = [], [], []
    for g, spec in enumerate(specs):
        for _ in range(spec["size"]):
            tags = rng.sample(spec["tags"], rng.randint(1, 3))
            if rng.random() < 0.33:
                tags.append(rng.choice(GENERIC))
            if rng.random() < 0.25:
                tags.append(rng.choice(specs[rng.choice(by_type[spec["type"]])]["tags"]))
            style, noun = spec["title"]
            words = [style, noun] if rng.random() < 0.5 else [rng.choice([style, noun])]
            words.append(rng.choice(COLOURS) if rng.random() < 0.6 else rng.choice(SIZES))
            rng.shuffle(words)
            products.append(
                Product(
                    shop=shop,
                    title=" ".join(words).title(),
                    product_type=spec["type"],
                    vendor=spec["vendor"] if rng.random() < 0.6 else rng.choice(vendors),
                    tags=tags,
                )
            )
            group_of.append(g)
            prices.append(spec["price"] * rng.lognormvariate(0, 0.2))
    created = Product.objects.bulk_create(products, batch_size=2000)
    Variant.objects.bulk_create(
        (
            Variant(shop=shop, product=p, price=Decimal(str(round(price, 2))), available=5)
            for p, price in zip(created, prices, strict=True)
        ),
        batch_size=2000,
    )
    return shop, {p.pk: g for p, g in zip(created, group_of, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shop, group_of = seed(args.groups, rng)
    started = time.perf_counter()
    alternatives_compute(shop=shop)
    computed = time.perf_counter() - started
    products = list(Product.objects.filter(shop=shop).select_related("shop"))
    types: dict[str, list[int]] = {}
    for product in products:
        types.setdefault(product.product_type, []).append(product.pk)
    ours, baseline = [], []
    for product in products:
        shown = product_alternatives(product=product, limit=4)
        ours.append(sum(group_of[alt.product.pk] == group_of[product.pk] for alt in shown) / 4)
        pool = [pk for pk in types[product.product_type] if pk != product.pk]
        picked = rng.sample(pool, 4)
        baseline.append(sum(group_of[pk] == group_of[product.pk] for pk in picked) / 4)
    p_ours, p_random = statistics.mean(ours), statistics.mean(baseline)
    print(
        f"catalog: {len(products)} products in {args.groups} substitute groups over {len(types)} types "
        f"(ranking computed in {computed:.1f} s)"
    )
    print(f"precision@4, product_alternatives: {p_ours:.3f}   (target >= 0.7)")
    print(f"precision@4, random same-type pick: {p_random:.3f}")
    print(f"ratio: {p_ours / p_random:.1f}x   (target >= 1.5x)")
    Shop.objects.filter(pk=shop.pk).delete()


if __name__ == "__main__":
    main()
