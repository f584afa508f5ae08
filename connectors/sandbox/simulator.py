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
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date

from connectors.sandbox.available_to_sell import ats_truth
from connectors.sandbox.channels import adyen, amazon, bank, erp, marketplace, pos, shopify_web, stripe, wms
from connectors.sandbox.cogs_journals import cogs_journal_truth
from connectors.sandbox.sales_journals import sales_journal_truth
from connectors.sandbox.settlement_journals import settlement_journal_truth
from connectors.sandbox.shopify_api import ShopifyStore
from connectors.sandbox.world import World


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 1
    start_date: date = date(2026, 11, 2)
    days: int = 3
    orders_per_day: int = 40  # web shop orders; the other channels scale from their own defaults
    anomaly_rate: float = 0.05
    # share of charge lines that arrive without their transaction reference (real, not an anomaly)
    missing_reference_rate: float = 0.05
    # share of rows in dropped files rendered malformed (each must be quarantined, its neighbours kept)
    malformed_rate: float = 0.02
    time_zone: str = "America/New_York"
    currency: str = "USD"


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
    world = World(seed=config.seed, start_date=config.start_date, days=config.days, currency=config.currency,
                  malformed_rate=config.malformed_rate, anomaly_rate=config.anomaly_rate)
    web = shopify_web.simulate(world, config)
    channels: dict[str, object] = {"shopify_web": web}
    channels["amazon"] = amazon.simulate(world)
    channels["marketplace"] = marketplace.simulate(world)
    channels["pos"] = pos.simulate(world)  # after the web shop: stores take back web orders
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
