"""Memberships: who may see and change which shop (``services.tenancy``, ``selectors.tenancy``)."""

import pytest

from backorders.models import Membership, Product
from backorders.selectors.tenancy import user_scope
from backorders.services.audit import Actor
from backorders.services.tenancy import MembershipRefused, membership_grant, membership_revoke
from tests.factories import ProductFactory, ShopFactory

ACTOR = Actor.admin("root")


@pytest.fixture
def two_shops(db):
    return ShopFactory(name="North"), ShopFactory(name="South")


def test_a_grant_lets_the_user_log_in_and_see_only_that_shop(two_shops, django_user_model):
    north, south = two_shops
    ProductFactory(shop=north, title="North mug")
    ProductFactory(shop=south, title="South mug")
    user = django_user_model.objects.create_user("ada", is_staff=False)

    membership = membership_grant(user=user, shop=north, role=Membership.Role.STAFF, actor=ACTOR)

    user.refresh_from_db()
    assert user.is_staff
    assert membership.granted_by == "admin:root"
    scope = user_scope(user)
    assert (scope.shop_ids, scope.writable_shop_ids, scope.owned_shop_ids) == ({north.pk}, {north.pk}, set())
    assert [p.title for p in scope.filter(Product.objects.all())] == ["North mug"]
    assert scope.can_write(north.pk) and not scope.can_view(south.pk)


def test_granting_again_replaces_the_role_and_a_viewer_writes_nothing(two_shops, django_user_model):
    north, _south = two_shops
    user = django_user_model.objects.create_user("bea")
    membership_grant(user=user, shop=north, role="owner", actor=ACTOR)
    membership_grant(user=user, shop=north, role="viewer", actor=ACTOR)

    assert Membership.objects.get(user=user).role == "viewer"
    scope = user_scope(user)
    assert scope.can_view(north.pk) and not scope.can_write(north.pk) and not scope.writes_any
    assert list(scope.filter(Product.objects.all(), writable=True)) == []


def test_revoking_takes_the_shop_away(two_shops, django_user_model):
    north, south = two_shops
    user = django_user_model.objects.create_user("cy")
    membership_grant(user=user, shop=north, role="staff", actor=ACTOR)

    assert membership_revoke(user=user, shop=north, actor=ACTOR) is True
    assert membership_revoke(user=user, shop=south, actor=ACTOR) is False
    assert not user_scope(user).sees_any


@pytest.mark.parametrize("role", ["admin", "", "OWNER "])
def test_an_unknown_role_is_refused_and_nothing_changes(two_shops, django_user_model, role):
    user = django_user_model.objects.create_user("dee")
    with pytest.raises(MembershipRefused, match="is not a role; use one of: owner, staff, viewer"):
        membership_grant(user=user, shop=two_shops[0], role=role, actor=ACTOR)
    assert not Membership.objects.exists()
    user.refresh_from_db()
    assert not user.is_staff


def test_an_inactive_user_is_refused(two_shops, django_user_model):
    user = django_user_model.objects.create_user("eve", is_active=False)
    with pytest.raises(MembershipRefused, match="inactive"):
        membership_grant(user=user, shop=two_shops[0], role="staff", actor=ACTOR)
    assert not Membership.objects.exists()


def test_superusers_see_everything_and_inactive_users_nothing(two_shops, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert user_scope(root).everything
    root.is_active = False
    assert not user_scope(root).sees_any


def test_the_scope_is_one_query(two_shops, django_user_model, django_assert_num_queries):
    user = django_user_model.objects.create_user("fay")
    for shop in two_shops:
        membership_grant(user=user, shop=shop, role="staff", actor=ACTOR)
    with django_assert_num_queries(1):
        scope = user_scope(user)
    assert scope.shop_names == {shop.pk: shop.name for shop in two_shops}
