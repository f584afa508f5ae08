"""A deterministic simulated retailer: every channel of one world, and the truth about it.

`simulate(config)` builds the world (connectors/sandbox/world.py) and runs each channel's
simulation in an order that lets later ones see what earlier ones did: the selling channels
first (web shop, Amazon, the regional marketplace, the stores), then the PSPs that settle their
card payments, then the WMS that ships and restocks what they sold, then the bank that receives
every payout. The ground truth is the web shop's reconciliation truth (matches, exceptions,
journals) plus every provider's expected matches and exceptions and, under "sources", the records every source serves, per raw table;
under "inventory", the stock states, ATS and oversells the inventory marts must hold (available_to_sell.py);
under "settlement_journals_by_payout", every provider's settlement journal per postable payout
(settlement_journals.py); under "cogs_journals", the COGS journal per legal entity, business date and
location (cogs_journals.py); under "sales_journals", the SALES journal per legal entity, channel, location
and business date (sales_journals.py).

Volume: the web shop sells `orders_per_day`; `channel_volume_scale` multiplies Amazon's, the marketplace's
and the stores' default daily orders (1.0 leaves every world exactly as it was). For "N orders a day across
channels" in today's mix, use `SandboxConfig.for_orders_per_day(N, seed=..., days=...)`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date

from connectors.gc_pause import cyclic_gc_paused
from connectors.sandbox.available_to_sell import ats_truth
from connectors.sandbox.channels import adyen, amazon, bank, erp, marketplace, pos, shopify_web, stripe, wms
from connectors.sandbox.cogs_journals import cogs_journal_truth
from connectors.sandbox.sales_journals import sales_journal_truth
from connectors.sandbox.settlement_journals import settlement_journal_truth
from connectors.sandbox.shopify_api import ShopifyStore
from connectors.sandbox.world import STORES, World


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 1
    start_date: date = date(2026, 11, 2)
    days: int = 3
    orders_per_day: int = 40  # web shop orders a day; channel_volume_scale scales the other channels
    anomaly_rate: float = 0.05
    # share of charge lines that arrive without their transaction reference (real, not an anomaly)
    missing_reference_rate: float = 0.05
    # share of rows in dropped files rendered malformed (each must be quarantined, its neighbours kept)
    malformed_rate: float = 0.02
    time_zone: str = "America/New_York"
    currency: str = "USD"
    # Multiplies the daily orders of Amazon, the marketplace and the stores (the web shop has orders_per_day).
    # At 1.0 every channel sells exactly what it always has, so existing worlds stay byte for byte the same.
    channel_volume_scale: float = 1.0

    def __post_init__(self):
        if self.channel_volume_scale < 0:
            raise ValueError(f"channel_volume_scale must not be negative, got {self.channel_volume_scale}")

    @classmethod
    def for_orders_per_day(cls, total: int, **fields) -> SandboxConfig:
        """A sandbox selling about `total` orders a business day across all channels, in today's channel mix.

        Every channel is scaled by the same factor, so the mix of the default world is kept (see daily_orders);
        the total comes out within rounding of `total`. Other fields (seed, days, anomaly_rate, ...) pass through.
        """
        if total <= 0:
            raise ValueError(f"total orders a day must be positive, got {total}")
        default = cls()
        scale = total / sum(daily_orders(default).values())
        return cls(**fields, orders_per_day=round(default.orders_per_day * scale), channel_volume_scale=scale)


def _scaled(default: int, scale: float) -> int:
    return round(default * scale)


def amazon_orders_per_day(config: SandboxConfig) -> int:
    return _scaled(amazon.ORDERS_PER_DAY, config.channel_volume_scale)


def marketplace_orders_per_day(config: SandboxConfig) -> tuple[int, int]:
    """The range each business day's order count is drawn from (one draw a day, as at the default)."""
    low, high = marketplace.ORDERS_PER_DAY
    return _scaled(low, config.channel_volume_scale), _scaled(high, config.channel_volume_scale)


def store_tickets_per_day(config: SandboxConfig) -> int:
    """Tickets each store rings up a business day (a return ticket is a Square order too)."""
    return _scaled(pos.TICKETS_PER_STORE_DAY, config.channel_volume_scale)


def daily_orders(config: SandboxConfig) -> dict[str, float]:
    """Orders a business day each channel's source serves, on average: web 40, Amazon 20, marketplace 10 and
    the stores 75 tickets (3 x 25, about a tenth of them returns) at the defaults, 145 in all."""
    low, high = marketplace_orders_per_day(config)
    return {shopify_web.CHANNEL: float(config.orders_per_day), amazon.CHANNEL: float(amazon_orders_per_day(config)),
            marketplace.CHANNEL: (low + high) / 2, pos.CHANNEL: float(store_tickets_per_day(config) * len(STORES))}


@dataclass
class SandboxWorld:
    config: SandboxConfig
    world: World
    store: ShopifyStore  # the web shop, as the fake Shopify Admin API serves it
    channels: dict[str, object] = field(default_factory=dict)  # simulation name -> what it serves or drops
    ground_truth: dict = field(default_factory=dict)


def reconciliation_truth(world: World) -> dict:
    """Every provider's expected matches and exceptions, as JSON-friendly rows in a stable order."""
    matches = sorted(({**asdict(m), "variance": f"{m.variance:.2f}"} for m in world.expected_matches),
                     key=lambda m: (m["provider"], m["settlement_line_id"], m["counterpart_id"]))
    exceptions = sorted((asdict(e) for e in world.expected_exceptions),
                        key=lambda e: (e["reason_code"], e["provider"], e["reference_id"]))
    return {"matches": matches, "exceptions": exceptions,
            "exceptions_by_reason": dict(sorted(Counter(e["reason_code"] for e in exceptions).items()))}


def simulate(config: SandboxConfig = SandboxConfig()) -> SandboxWorld:
    """Generate the sandbox retailer. The same config always gives the same world, byte for byte."""
    with cyclic_gc_paused():
        return _simulate(config)


def _simulate(config: SandboxConfig) -> SandboxWorld:
    world = World(seed=config.seed, start_date=config.start_date, days=config.days, currency=config.currency,
                  malformed_rate=config.malformed_rate, anomaly_rate=config.anomaly_rate)
    web = shopify_web.simulate(world, config)
    channels: dict[str, object] = {"shopify_web": web}
    channels["amazon"] = amazon.simulate(world, orders_per_day=amazon_orders_per_day(config))
    channels["marketplace"] = marketplace.simulate(world, orders_per_day=marketplace_orders_per_day(config))
    # after the web shop: stores take back web orders
    channels["pos"] = pos.simulate(world, tickets_per_store_day=store_tickets_per_day(config))
    # PSPs settle what the selling channels captured
    channels["stripe"] = stripe.simulate(world)
    channels["adyen"] = adyen.simulate(world)
    # the warehouse ships and takes back what every channel sold; the ERP knows the reference data
    channels["wms"] = wms.simulate(world)
    channels["erp"] = erp.simulate(world)
    # the bank last: it receives every payout
    channels["bank"] = bank.simulate(world)
    inventory = ats_truth(world, channels["wms"], lost_order_lines=marketplace.lost_order_lines(channels["marketplace"]))
    truth = {**web.ground_truth, **reconciliation_truth(world), "sources": world.records,
             "canonical": world.canonical, "return_links": world.return_links, "inventory": inventory,
             "settlement_journals_by_payout": settlement_journal_truth(world, channels),
             "cogs_journals": cogs_journal_truth(world, channels["wms"]),
             "sales_journals": sales_journal_truth(world)}
    return SandboxWorld(config, world, web.store, channels, truth)
