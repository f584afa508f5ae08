"""Card payments for the PSP simulations' tests, while the channel simulations that feed them are wired.

The web shop (Stripe) and the stores (Adyen) append CardPayments to world.card_payments; these tests
add their own, shaped like those channels' (Shopify order names and ids, POS payment ids), from a
random stream of their own so they are deterministic.
"""
from __future__ import annotations

import string
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from connectors.sandbox.world import CardPayment, World, cents


def stripe_payments(world: World, *, per_day: int = 12, refund_share: float = 0.2) -> None:
    """Web orders paid through Stripe, on each business day in New York time, some refunded later."""
    rng = world.rng("test:stripe-card-payments")
    zone = ZoneInfo("America/New_York")
    number = 0
    for day in world.business_days:
        for _ in range(per_day):
            number += 1
            at = datetime.combine(day, time(0), tzinfo=zone) + timedelta(seconds=rng.randrange(0, 20 * 3600))
            amount = Decimal(rng.randrange(1_000, 40_000)) / 100
            charge, name, order_id = f"ch_{rng.getrandbits(96):024x}", f"#{1000 + number}", str(5_100_000_000 + number)
            world.card_payments.append(CardPayment("stripe", charge, name, "shopify_web", order_id, "capture",
                                                   amount, world.currency, at))
            if rng.random() < refund_share:
                refund = amount if rng.random() < 0.5 else cents(amount / 3)
                world.card_payments.append(CardPayment("stripe", charge, name, "shopify_web", order_id, "refund",
                                                       refund, world.currency, at + timedelta(hours=2)))


def adyen_payments(world: World, *, per_day: int = 15, refund_share: float = 0.1,
                   stores: tuple[str, ...] = ("America/New_York", "America/Chicago", "America/Los_Angeles")) -> None:
    """Store card tenders between 09:00 and 20:00 local time in each store, a few refunded in store."""
    rng = world.rng("test:adyen-card-payments")
    number = 0
    for day in world.business_days:
        for _ in range(per_day):
            number += 1
            zone = ZoneInfo(rng.choice(stores))
            at = datetime.combine(day, time(9), tzinfo=zone) + timedelta(seconds=rng.randrange(0, 11 * 3600))
            amount = Decimal(rng.randrange(500, 25_000)) / 100
            psp_reference = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
            world.card_payments.append(CardPayment("adyen", psp_reference, f"POS-{number:06d}", "pos",
                                                   f"POS-ORDER-{number}", "capture", amount, world.currency, at))
            if rng.random() < refund_share:
                world.card_payments.append(CardPayment("adyen", psp_reference, f"POS-{number:06d}-R", "pos",
                                                       f"POS-ORDER-{number}", "refund", amount, world.currency,
                                                       at + timedelta(minutes=30)))


def world_with(*psps: str, seed: int = 3, start: date = date(2026, 11, 2), days: int = 3, **options) -> World:
    world = World(seed=seed, start_date=start, days=days, **options)
    if "stripe" in psps:
        stripe_payments(world)
    if "adyen" in psps:
        adyen_payments(world)
    return world
