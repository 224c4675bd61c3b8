"""Alternatives: the precomputed ranking per product, and the owner's pins and hides.

Ranking (``alternatives_compute``). For every active product of a shop (discontinued ones too:
their page needs alternatives most), the candidates are other active, non-discontinued products
of the same shop with a price. A pair scores, out of 1.0:

    0.30  same product type
    0.30  shared tags (Jaccard: shared / all distinct)
    0.10  same vendor
    0.15  price closeness: 1 at the same price, falling linearly to 0 at twice (or half) the price
    0.15  similar titles (Jaccard of their word sets)

A product's price is the midpoint of its variants' price range (variants neither archived nor
discontinued). A candidate is **higher tier** when it has the same (non-empty) product type and a
price at least ``HIGHER_TIER_RATIO`` (1.25) times the product's: the next price band up.

Blocking keeps the work linear in the catalog size. An inverted index is built once per run: one
block per product type and one per tag, each sorted by price. A product's candidates are, from
each of its blocks, the ``ALTERNATIVES_BLOCK_WINDOW`` members on either side of its own price, and
from its type block also the first few members of the next price band up (the higher-tier
window). A product is never compared with products outside its type and tag blocks, nor with
more than a bounded number within them. Candidates found in more blocks are scored first; at
most ``SHORTLIST`` are scored per product. The best ``ALTERNATIVES_KEPT`` are kept, plus the best
higher-tier ones if none made the cut.

Writes go in chunks of products, each chunk deleted and rewritten in its own transaction, so a
reader sees either the old or the new list of a product, never a half-written one, and memory
stays bounded by the chunk (plus the catalog's compact index).
"""

import bisect
import heapq
import logging
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.conf import get_setting
from backorders.models import AlternativeOverride, Product, ProductAlternative, Shop
from backorders.services.audit import Actor

logger = logging.getLogger(__name__)

W_TYPE, W_TAGS, W_VENDOR, W_PRICE, W_TITLE = 0.30, 0.30, 0.10, 0.15, 0.15
HIGHER_TIER_RATIO = 1.25
# Members of the next price band up taken from the type block (the higher-tier window).
HIGHER_TIER_WINDOW = 8
# Higher-tier candidates kept even when their score ranks below ALTERNATIVES_KEPT.
HIGHER_TIER_KEPT = 3
# Most candidates scored per product (those found in the most blocks first).
SHORTLIST = 40
# Tags of a product that form blocks and count in the score (a product with hundreds of tags
# would otherwise cost as much as hundreds of products).
MAX_TAGS = 30
# Products whose lists are rewritten per transaction.
CHUNK = 1000
MAX_POSITION = 999
_LN2 = math.log(2)
_WORD = re.compile(r"\w+")


# --- The owner's pins and hides ----------------------------------------------------------------


class AlternativeRefused(ValidationError):
    """An override the owner cannot make (another shop's product, the product itself, a position
    out of range); nothing is written. A ``ValidationError``, so a form shows it on its field."""


def alternative_override_validate(*, product: Product, alternative: Product, position: int = 0) -> None:
    """Refuse an override of ``alternative`` for ``product`` that cannot be right (the admin's form
    calls this too, to show the message on its field)."""
    if alternative.pk == product.pk:
        raise AlternativeRefused(
            {"alternative": _("A product cannot be its own alternative. Choose another product.")}
        )
    if alternative.shop_id != product.shop_id:
        raise AlternativeRefused(
            {
                "alternative": _(
                    "“%(alternative)s” belongs to another shop. Choose a product of the same shop "
                    "as “%(product)s”."
                )
                % {"alternative": alternative.title, "product": product.title}
            }
        )
    if not 0 <= position <= MAX_POSITION:
        raise AlternativeRefused(
            {"position": _("Enter a position from 0 to %(max)d.") % {"max": MAX_POSITION}}
        )


def _override_set(
    *, product: Product, alternative: Product, kind: str, position: int, actor: Actor
) -> AlternativeOverride:
    alternative_override_validate(product=product, alternative=alternative, position=position)
    override, _created = AlternativeOverride.objects.update_or_create(
        product=product,
        alternative=alternative,
        defaults={
            "shop_id": product.shop_id,
            "kind": kind,
            "position": position,
            "actor_kind": actor.kind,
            "actor_name": actor.name[:255],
        },
    )
    logger.info(
        "alternative %s %s for product %s by %s %s", alternative.pk, kind, product.pk, actor.kind, actor.name
    )
    return override


@transaction.atomic
def alternative_pin(
    *, product: Product, alternative: Product, position: int, actor: Actor
) -> AlternativeOverride:
    """Show ``alternative`` first on ``product``'s page, in ``position`` order among the pins
    (0–999), whenever it is in stock now (a pin does not bypass the stock filter). Replaces a hide
    of the same pair. ``AlternativeRefused`` (nothing written) for another shop's product, the
    product itself, or a position out of range."""
    return _override_set(
        product=product,
        alternative=alternative,
        kind=AlternativeOverride.Kind.PIN,
        position=position,
        actor=actor,
    )


@transaction.atomic
def alternative_hide(*, product: Product, alternative: Product, actor: Actor) -> AlternativeOverride:
    """Never show ``alternative`` on ``product``'s page, whatever the ranking says. Replaces a pin
    of the same pair. ``AlternativeRefused`` as ``alternative_pin``."""
    return _override_set(
        product=product, alternative=alternative, kind=AlternativeOverride.Kind.HIDE, position=0, actor=actor
    )


@transaction.atomic
def alternative_override_remove(*, product: Product, alternative: Product, actor: Actor) -> bool:
    """Drop the owner's pin or hide of ``alternative`` for ``product`` (the ranking decides again);
    returns whether there was one."""
    deleted, _rows = AlternativeOverride.objects.filter(product=product, alternative=alternative).delete()
    if deleted:
        logger.info(
            "alternative %s override removed for product %s by %s %s",
            alternative.pk,
            product.pk,
            actor.kind,
            actor.name,
        )
    return bool(deleted)


# --- The ranking -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A product as the ranking sees it: interned ids instead of strings, to stay small."""

    pk: int
    type: int  # 0 = no product type
    vendor: int  # 0 = no vendor
    tags: frozenset[int]
    words: frozenset[int]
    price: float | None
    log_price: float | None
    candidate: bool  # may be offered as an alternative (active and not discontinued, has a price)


class _Interner(dict[str, int]):
    def __call__(self, value: str) -> int:
        if not value:
            return 0
        found = self.get(value)
        if found is None:
            found = self[value] = len(self) + 1
        return found


def _words(title: str) -> Iterator[str]:
    return (word for word in _WORD.findall(title.lower()) if len(word) > 1)


def _catalog(shop: Shop, universe: Q | None) -> dict[int, _Item]:
    """The shop's active products (those matching ``universe``, or all), in one streamed query."""
    priced = Q(variants__is_archived=False, variants__discontinued=False)
    rows = (
        Product.objects.filter(shop=shop, status=Product.Status.ACTIVE)
        .filter(universe or Q())
        .order_by()
        .annotate(lo=Min("variants__price", filter=priced), hi=Max("variants__price", filter=priced))
        .values_list("pk", "product_type", "vendor", "tags", "title", "discontinued", "lo", "hi")
    )
    types, vendors, tags, words = _Interner(), _Interner(), _Interner(), _Interner()
    items: dict[int, _Item] = {}
    for pk, product_type, vendor, product_tags, title, discontinued, lo, hi in rows.iterator(chunk_size=5000):
        price = float(lo + hi) / 2 if lo is not None and hi is not None else None
        tag_list = product_tags if isinstance(product_tags, list) else []
        items[pk] = _Item(
            pk=pk,
            type=types(product_type),
            vendor=vendors(vendor.casefold()),
            tags=frozenset(tags(str(tag)) for tag in tag_list[:MAX_TAGS] if tag),
            words=frozenset(words(word) for word in _words(title)),
            price=price,
            log_price=math.log(price) if price and price > 0 else None,
            candidate=price is not None and not discontinued,
        )
    return items


class _Blocks:
    """The inverted index: per product type and per tag, the candidates sorted by price."""

    def __init__(self, items: Iterable[_Item], window: int) -> None:
        grouped: dict[tuple[str, int], list[tuple[float, int]]] = {}
        for item in items:
            if not item.candidate or item.price is None:
                continue
            keys = [("g", tag) for tag in item.tags]
            if item.type:
                keys.append(("t", item.type))
            for key in keys:
                grouped.setdefault(key, []).append((item.price, item.pk))
        self.window = window
        self.prices: dict[tuple[str, int], list[float]] = {}
        self.members: dict[tuple[str, int], list[int]] = {}
        for key, members in grouped.items():
            members.sort()
            self.prices[key] = [price for price, _pk in members]
            self.members[key] = [pk for _price, pk in members]

    def candidates(self, item: _Item) -> list[int]:
        """Candidate pks for ``item`` (with repeats: one per block that offers them)."""
        found: list[int] = []
        window = self.window
        price = item.price if item.price is not None else 0.0
        keys = [("g", tag) for tag in item.tags]
        if item.type:
            keys.append(("t", item.type))
        for key in keys:
            members = self.members.get(key)
            if not members:
                continue
            if len(members) <= 2 * window + 1:
                found += members
                continue
            prices = self.prices[key]
            at = bisect.bisect_left(prices, price)
            start = max(0, min(at - window, len(members) - 2 * window - 1))
            found += members[start : start + 2 * window + 1]
            if key[0] == "t" and item.price:
                up = bisect.bisect_left(prices, item.price * HIGHER_TIER_RATIO)
                if up >= start + 2 * window + 1:
                    found += members[up : up + HIGHER_TIER_WINDOW]
        return found


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def pair_score(a: _Item, b: _Item) -> float:
    """How good ``b`` is as an alternative to ``a`` (0.0–1.0; see the module docstring)."""
    score = 0.0
    if a.type and a.type == b.type:
        score += W_TYPE
    score += W_TAGS * _jaccard(a.tags, b.tags)
    if a.vendor and a.vendor == b.vendor:
        score += W_VENDOR
    if a.log_price is not None and b.log_price is not None:
        distance = abs(a.log_price - b.log_price)
        if distance < _LN2:
            score += W_PRICE * (1 - distance / _LN2)
    score += W_TITLE * _jaccard(a.words, b.words)
    return score


def is_higher_tier(a: _Item, b: _Item) -> bool:
    """Same product type, and ``b`` in a higher price band than ``a``."""
    return bool(
        a.type and a.type == b.type and a.price and b.price and b.price >= a.price * HIGHER_TIER_RATIO
    )


def _rank(item: _Item, items: dict[int, _Item], blocks: _Blocks, kept: int) -> list[tuple[int, float, bool]]:
    """``item``'s best alternatives as (pk, score, higher tier), best first.

    ``pair_score`` and ``is_higher_tier`` inlined (a test holds them equal): this loop runs
    millions of times a run, and the calls would cost more than the arithmetic."""
    counts = Counter(blocks.candidates(item))
    counts.pop(item.pk, None)
    shortlist = [pk for pk, _n in counts.most_common(SHORTLIST)] if len(counts) > SHORTLIST else list(counts)
    a_type, a_vendor, a_tags, a_words, a_log = item.type, item.vendor, item.tags, item.words, item.log_price
    n_tags, n_words = len(a_tags), len(a_words)
    band = item.price * HIGHER_TIER_RATIO if a_type and item.price else None
    scored = []
    for pk in shortlist:
        other = items[pk]
        score = 0.0
        same_type = a_type and a_type == other.type
        if same_type:
            score += W_TYPE
        if n_tags and other.tags:
            shared = len(a_tags & other.tags)
            if shared:
                score += W_TAGS * shared / (n_tags + len(other.tags) - shared)
        if a_vendor and a_vendor == other.vendor:
            score += W_VENDOR
        if a_log is not None and other.log_price is not None:
            distance = abs(a_log - other.log_price)
            if distance < _LN2:
                score += W_PRICE * (1 - distance / _LN2)
        if n_words and other.words:
            shared = len(a_words & other.words)
            if shared:
                score += W_TITLE * shared / (n_words + len(other.words) - shared)
        higher = bool(same_type and band is not None and other.price is not None and other.price >= band)
        scored.append((score, -pk, higher))
    best = heapq.nlargest(kept, scored)
    if not any(higher for _s, _pk, higher in best):
        extra = heapq.nlargest(HIGHER_TIER_KEPT, (row for row in scored if row[2]))
        best = (best[: max(kept - len(extra), 0)] + extra) if extra else best
    return [(-negative_pk, round(score, 6), higher) for score, negative_pk, higher in best]


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _write(
    *, shop: Shop, product_ids: list[int], rows: list[tuple[int, int, float, int, bool]], now: datetime
) -> None:
    """Replace the lists of ``product_ids`` by ``rows`` (product, alternative, score, rank, higher
    tier) in one transaction: COPY on PostgreSQL, ``bulk_create`` elsewhere."""
    alias = router.db_for_write(ProductAlternative)
    with transaction.atomic(using=alias):
        ProductAlternative.objects.using(alias).filter(product_id__in=product_ids).delete()
        connection = connections[alias]
        if connection.vendor == "postgresql" and rows:
            table = connection.ops.quote_name(ProductAlternative._meta.db_table)
            columns = "shop_id, product_id, alternative_id, score, rank, higher_tier, computed_at"
            # COPY's text format, built here: ints, floats, booleans and one timestamp need no
            # escaping, and formatting a line costs a fraction of a per-row write_row call.
            stamp, shop_id = now.isoformat(), shop.pk
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                copy.write(
                    "".join(
                        f"{shop_id}\t{product_id}\t{alternative_id}\t{score!r}\t{rank}\t"
                        f"{'t' if higher else 'f'}\t{stamp}\n"
                        for product_id, alternative_id, score, rank, higher in rows
                    )
                )
        else:
            ProductAlternative.objects.using(alias).bulk_create(
                (
                    ProductAlternative(
                        shop_id=shop.pk,
                        product_id=product_id,
                        alternative_id=alternative_id,
                        score=score,
                        rank=rank,
                        higher_tier=higher,
                        computed_at=now,
                    )
                    for product_id, alternative_id, score, rank, higher in rows
                ),
                batch_size=500,
            )


def _neighbourhood(shop: Shop, product_ids: Collection[int]) -> Q | None:
    """The products whose data the lists of ``product_ids`` depend on: those sharing a product
    type or a tag with one of them (every block they belong to, whole). None = the whole shop
    (backends without a JSON "has any key" on arrays)."""
    if connections[router.db_for_read(Product)].vendor != "postgresql":
        return None
    types: set[str] = set()
    tags: set[str] = set()
    for product_type, product_tags in Product.objects.filter(shop=shop, pk__in=product_ids).values_list(
        "product_type", "tags"
    ):
        if product_type:
            types.add(product_type)
        if isinstance(product_tags, list):
            tags.update(str(tag) for tag in product_tags[:MAX_TAGS] if tag)
    universe = Q(pk__in=list(product_ids)) | Q(product_type__in=sorted(types))
    if tags:
        universe |= Q(tags__has_any_keys=sorted(tags))
    return universe


def alternatives_compute(
    *, shop: Shop, product_ids: Collection[int] | None = None, include_neighbours: bool = False
) -> int:
    """Recompute the ranked alternatives of ``product_ids`` of ``shop`` (None = every product of
    the shop); returns the number of rows written.

    With ``include_neighbours``, also the products whose lists could now include or drop one of
    ``product_ids`` after it changed: those that list it today, and those its blocks (type, tags,
    within the window) now offer it to. A listed product that is no longer active (archived,
    draft, deleted, another shop's) loses its list. The owner's overrides are never touched.
    """
    kept = get_setting("ALTERNATIVES_KEPT")
    window = get_setting("ALTERNATIVES_BLOCK_WINDOW")
    if product_ids is None:
        items = _catalog(shop, None)
        targets = sorted(items)
        stale = list(
            ProductAlternative.objects.filter(shop=shop)
            .exclude(
                product_id__in=Product.objects.filter(shop=shop, status=Product.Status.ACTIVE).values("pk")
            )
            .values_list("product_id", flat=True)
            .distinct()
        )
    else:
        wanted = {int(pk) for pk in product_ids}
        if not wanted:
            return 0
        if include_neighbours:
            first = _catalog(shop, _neighbourhood(shop, wanted))
            first_blocks = _Blocks(first.values(), window)
            for pk in list(wanted):
                if pk in first:
                    wanted.update(first_blocks.candidates(first[pk]))
            wanted.update(
                ProductAlternative.objects.filter(shop=shop, alternative_id__in=list(wanted)).values_list(
                    "product_id", flat=True
                )
            )
        items = _catalog(shop, _neighbourhood(shop, wanted))
        targets = sorted(pk for pk in wanted if pk in items)
        stale = sorted(wanted - set(targets))
    blocks = _Blocks(items.values(), window)
    now = timezone.now()
    written = 0
    for pks in _chunks(stale, CHUNK):
        _write(shop=shop, product_ids=pks, rows=[], now=now)
    for pks in _chunks(targets, CHUNK):
        rows = [
            (pk, alternative, score, rank, higher)
            for pk in pks
            for rank, (alternative, score, higher) in enumerate(
                _rank(items[pk], items, blocks, kept), start=1
            )
        ]
        _write(shop=shop, product_ids=pks, rows=rows, now=now)
        written += len(rows)
    return written


def alternatives_enqueue(*, shop_id: int, product_ids: list[int]) -> None:
    """After commit, recompute the alternatives ``product_ids`` and their neighbours need (the
    catalog changed). ``robust``: a broker outage never fails the change; the nightly run repairs
    what a lost task missed."""
    from backorders.tasks import alternatives_compute_task

    transaction.on_commit(partial(alternatives_compute_task.delay, shop_id, sorted(product_ids)), robust=True)


def alternatives_refresh(*, shop_id: int, product_ids: list[int] | None = None) -> int:
    """The task's entry: recompute a whole active shop (None), or ``product_ids`` and their
    neighbours; an unknown or inactive shop is left alone (returns 0)."""
    shop = Shop.objects.filter(pk=shop_id, is_active=True).first()
    if shop is None:
        return 0
    if product_ids is None:
        return alternatives_compute(shop=shop)
    return alternatives_compute(shop=shop, product_ids=product_ids, include_neighbours=True)


def alternatives_nightly_enqueue() -> int:
    """Nightly: one recompute task per active shop (spread over the workers); returns how many."""
    from backorders.tasks import alternatives_compute_task

    shop_ids = list(Shop.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for shop_id in shop_ids:
        alternatives_compute_task.delay(shop_id)
    return len(shop_ids)
