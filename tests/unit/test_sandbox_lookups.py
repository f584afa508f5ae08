"""The sandbox's indexed lookups give exactly what the plain filters they replace gave, so worlds stay the same.

Each is driven at random against the filter over every record, and a random pick from both must be the same
record after the same random numbers."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from connectors.sandbox.channels.adyen import AMOUNT_TOLERANCE, KEYED_ISOLATION, _CapturesNear
from connectors.sandbox.returnable import ReturnableOrders
from connectors.sandbox.world import CardPayment

START = datetime(2026, 11, 2, tzinfo=timezone.utc)


def test_returnable_orders_are_the_filtered_sales_in_sale_order_whichever_way_the_cutoff_moves():
    rng = random.Random(42)
    returnable: ReturnableOrders[str] = ReturnableOrders()
    sales: list[tuple[str, datetime]] = []
    returned: set[str] = set()
    picks_a, picks_b = random.Random(7), random.Random(7)
    cutoff = START
    for step in range(3000):
        roll = rng.random()
        if roll < 0.45:  # a sale, most of them after the cutoff, some at the very same instant
            key = f"order-{step}"
            at = cutoff + timedelta(minutes=rng.randrange(-5, 120)) if rng.random() < 0.9 else cutoff
            sales.append((key, at))
            returnable.add(key, key, at)
        else:
            # the cutoff walks forward, and now and then back (another store's time zone)
            cutoff += timedelta(minutes=rng.randrange(-240, 60) if rng.random() < 0.1 else rng.randrange(0, 30))
            view = returnable.as_of(cutoff)
            expected = [key for key, at in sales if at < cutoff and key not in returned]
            assert len(view) == len(expected)
            assert [view[i] for i in range(len(view))] == expected
            if expected and roll < 0.8:
                picked = picks_a.choice(view)
                assert picked == picks_b.choice(expected)
                returnable.returned(picked)
                returned.add(picked)
    assert returned


def test_an_empty_view_is_false_and_has_no_items():
    returnable: ReturnableOrders[str] = ReturnableOrders()
    returnable.add("a", "a", START + timedelta(hours=1))
    view = returnable.as_of(START)
    assert not view and len(view) == 0
    assert list(returnable.as_of(START + timedelta(hours=2))) == ["a"]


def test_captures_near_an_amount_are_those_a_full_scan_finds_in_capture_order():
    rng = random.Random(3)
    captures = [CardPayment("adyen", f"88{n:014d}", f"sq{n}", "pos", f"order{n}", "capture",
                            Decimal(rng.randrange(100, 3000)) / (100 if rng.random() < 0.9 else 1000), "USD",
                            START + timedelta(minutes=rng.randrange(20 * 24 * 60))) for n in range(2000)]
    near = _CapturesNear(captures)
    for _ in range(500):
        amount = Decimal(rng.randrange(100, 3000)) / 100
        at = START + timedelta(minutes=rng.randrange(20 * 24 * 60))
        expected = [p for p in captures
                    if abs(p.amount - amount) <= AMOUNT_TOLERANCE and abs(p.at - at) < KEYED_ISOLATION]
        assert near.near(amount, at) == expected
        assert near.any_near(amount, at) is bool(expected)
    # a capture is near itself, and exactly at the tolerance counts
    first = captures[0]
    assert first in near.near(first.amount, first.at)
    assert first in near.near(first.amount + AMOUNT_TOLERANCE, first.at)


def test_an_unrecorded_sale_finds_an_amount_no_sale_comes_near_even_when_sales_cover_the_whole_range():
    from connectors.sandbox.channels import adyen
    from connectors.sandbox.world import World

    world = World(seed=1, start_date=START.date(), days=1)
    # a sale every ten cents from 9.90 to 200.10: every amount of the usual range is within 0.05 of one
    for n, cents in enumerate(range(990, 20_011, 10)):
        world.card_payments.append(CardPayment("adyen", f"88{n:014d}", f"sq{n}", "pos", f"order{n}", "capture",
                                               Decimal(cents) / 100, "USD", START + timedelta(hours=12)))
    simulation = adyen._Simulation(world)
    beside = world.card_payments[0]
    row = simulation.unrecorded(beside, START + timedelta(days=1), 1)
    assert row.role == "unrecorded_sale"
    assert row.gross > max(p.amount for p in world.card_payments) + AMOUNT_TOLERANCE
    assert not simulation.captures_near.near(row.gross, beside.at)
    assert not simulation.captures_near.any_near(row.gross, beside.at)


def test_a_fake_api_keeps_a_listing_until_its_records_change():
    from connectors.sandbox.loopback import FakeVendorAPI

    api = FakeVendorAPI()
    try:
        orders, refunds = [{"id": 1}, {"id": 2}], [{"id": 1}]
        selections = []

        def select(records):
            selections.append(len(records))
            return [r["id"] for r in records]
        assert api.listing("all", orders, lambda: select(orders)) == [1, 2]
        assert api.listing("all", orders, lambda: select(orders)) == [1, 2] and selections == [2]  # kept
        assert api.listing("all", refunds, lambda: select(refunds)) == [1]  # another list: its own listing
        orders.append({"id": 3})
        assert api.listing("all", orders, lambda: select(orders)) == [1, 2, 3]  # an appended record is seen
        assert api.listing("other filters", orders, lambda: select(orders)) == [1, 2, 3]
        assert selections == [2, 1, 3, 3]
    finally:
        api.stop()
