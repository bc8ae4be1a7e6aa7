"""Saved views as a service: names unique per owner (a Conflict unless replaced), visibility of
private and shared views, only the owner changes or deletes; and the list query's manager scope
(read first as CTEs) gives the same customers as the filter itself."""

from __future__ import annotations

import pytest

from hub.db.models import Customer
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.services.demo import load_demo
from hub.services.directory import customers as directory
from hub.services.directory import saved_views as views
from hub.services.directory.workflows import create_user
from hub.services.queries.customer_list import custom_field_keys, customer_list, forget_custom_field_keys


def two_users(hub):  # type: ignore[no-untyped-def]
    return (create_user(hub, {"email": "one@example.com", "role": "admin"}).id,
            create_user(hub, {"email": "two@example.com", "role": "admin"}).id)


def test_names_are_unique_per_owner_unless_replaced(hub):  # type: ignore[no-untyped-def]
    one, two = two_users(hub)
    first = views.save_view(hub, one, "Big  accounts", {"cf.segment": "enterprise", "q": None}, shared=False)
    assert first.name == "Big accounts" and first.query == {"cf.segment": "enterprise"}
    with pytest.raises(Conflict):
        views.save_view(hub, one, "Big accounts", {"q": "x"}, shared=True)
    replaced = views.save_view(hub, one, "Big accounts", {"q": "x"}, shared=True, replace=True)
    assert replaced.id == first.id and replaced.query == {"q": "x"} and replaced.shared
    assert views.save_view(hub, two, "Big accounts", {}, shared=False).id != first.id  # another owner
    views.save_view(hub, one, "Other", {}, shared=False)
    with pytest.raises(Conflict):
        views.update_view(hub, first.id, one, name="Other")
    with pytest.raises(ValidationFailed):
        views.save_view(hub, one, "   ", {}, shared=False)


def test_private_views_are_invisible_and_only_owners_change_views(hub):  # type: ignore[no-untyped-def]
    one, two = two_users(hub)
    private = views.save_view(hub, one, "Mine", {"q": "a"}, shared=False)
    shared = views.save_view(hub, one, "Ours", {"q": "b"}, shared=True)
    seen = views.list_views(hub, two)
    assert seen.mine == [] and [v.id for v in seen.shared] == [shared.id]
    assert seen.shared[0].owner_email == "one@example.com"
    assert [v.name for v in views.list_views(hub, one).mine] == ["Mine", "Ours"]
    with pytest.raises(NotFound):
        views.get_view(hub, private.id, two)
    assert views.get_view(hub, shared.id, two).query == {"q": "b"}
    with pytest.raises(PermissionDenied):
        views.delete_view(hub, shared.id, two)
    with pytest.raises(PermissionDenied):
        views.update_view(hub, shared.id, two, shared=False)
    with pytest.raises(NotFound):
        views.delete_view(hub, private.id, two)
    views.update_view(hub, shared.id, one, shared=False)
    assert views.list_views(hub, two).shared == []
    views.delete_view(hub, private.id, one)
    assert [v.name for v in views.list_views(hub, one).mine] == ["Ours"]


def test_the_page_query_matches_the_filter_for_managers_and_their_scope(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    alice = directory.get_customer(hub, "external:cus_demo_acme").account_managers[0].id
    for flt in (directory.CustomerFilter(visible_to_user_id=alice),
                directory.CustomerFilter(account_manager="CARLA.diaz@example.com"),
                directory.CustomerFilter(visible_to_user_id=alice, account_manager="carla.diaz@example.com",
                                         custom_fields={"segment": "enterprise"})):
        expected = [c.external_id for c in directory.list_customers(hub, flt, 0, 50).items]
        found = customer_list(hub, flt, None, 0, 50)
        assert [row.external_id for row in found.page.items] == expected and found.page.total == len(expected)
        assert expected


def test_custom_field_keys_are_read_once_and_forgotten_on_demand(hub):  # type: ignore[no-untyped-def]
    forget_custom_field_keys(hub)
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    assert custom_field_keys(hub) == ["risk", "segment"]
    with hub.uow() as uow:  # as a vendor's customer.created would bring it, with its fields
        uow.session.add(Customer(external_id="cus_new", custom_fields={"region": "emea"}))
        uow.commit()
    assert custom_field_keys(hub) == ["risk", "segment"]  # cached
    forget_custom_field_keys(hub)
    assert custom_field_keys(hub) == ["region", "risk", "segment"]
