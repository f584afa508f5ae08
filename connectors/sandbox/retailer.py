"""Start the sandbox retailer: simulate it, write its ground truth, serve its APIs and drop its files.

What the real vendors would do, the running sandbox does on loopback: each channel's fake API
serves its part of the world, the file-sending vendors' reports lie in the sandbox's inbox (one
folder per source), and `deliver_webhooks` posts the signed events a webhook receiver would get.
`env` holds the variables that point omnirecon at all of it, credentials included.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

from connectors.sandbox.amazon_api import SANDBOX_SELLER_ID, FakeSellingPartnerAPI
from connectors.sandbox.channels import adyen, amazon, bank, marketplace, pos, wms
from connectors.sandbox.erp_api import FakeErpAPI
from connectors.sandbox.loopback import FakeVendorAPI
from connectors.sandbox.marketplace_api import FakeMarketplaceListingsAPI
from connectors.sandbox.shopify_api import FakeShopifyAdminAPI
from connectors.sandbox.simulator import SandboxConfig, SandboxWorld, simulate
from connectors.sandbox.square_api import FakeSquareAPI
from connectors.sandbox.stripe_api import FakeStripeAPI
from connectors.sandbox.webhook_sender import SendReport, WebhookSender, world_deliveries
from connectors.sandbox.wms_api import FakeWmsAPI

DELIVERY_CONNECTIONS = 4  # a vendor's sender delivers several events at once


@dataclass
class RunningSandbox:
    world: SandboxWorld
    apis: dict[str, FakeVendorAPI]
    env: dict[str, str]  # what points omnirecon at this sandbox: base URLs, credentials, the inbox
    inbox: Path
    manifest_path: Path
    dropped_files: list[Path] = field(default_factory=list)

    @property
    def shopify_api(self) -> FakeShopifyAdminAPI:
        return self.apis["shopify"]

    @property
    def access_token(self) -> str:
        return self.env["SHOPIFY_ACCESS_TOKEN"]

    def deliver_webhooks(self, receiver_url: str, *, duplicate_rate: float = 0.05,
                         connections: int = DELIVERY_CONNECTIONS) -> SendReport:
        """Post the web shop's and Stripe's events to a receiver, signed, some of them twice, several at once."""
        deliveries = world_deliveries(self.world.world, self.world.store.orders, self.world.channels["stripe"])
        self.world.ground_truth["sources"] = self.world.world.records
        write_manifest(self.world, self.manifest_path)
        sender = WebhookSender(receiver_url, shopify_secret=self.env["SHOPIFY_WEBHOOK_SECRET"],
                               stripe_secret=self.env["STRIPE_WEBHOOK_SECRET"],
                               rng=self.world.world.rng("webhook_delivery"), duplicate_rate=duplicate_rate,
                               connections=connections)
        return sender.send(deliveries)

    def stop(self) -> None:
        for api in self.apis.values():
            api.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _plain(value):
    """Manifest values: dataclasses (return links) as objects, Decimals and dates as text."""
    return asdict(value) if is_dataclass(value) else str(value)


def write_manifest(world: SandboxWorld, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(world.ground_truth, indent=2, sort_keys=True, default=_plain) + "\n")
    return path


def start_sandbox(config: SandboxConfig, folder: Path, *, port: int = 0, access_token: str | None = None,
                  **shopify_api_options) -> RunningSandbox:
    world = simulate(config)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(asdict(config), indent=2, default=str) + "\n")
    inbox = folder / "inbox"
    dropped = [path for channel, files in (("amazon", amazon), ("adyen", adyen), ("marketplace", marketplace),
                                                 ("pos", pos), ("wms", wms), ("bank", bank))
               for path in files.drop_files(world.channels[channel], inbox)]

    env = {
        "OMNIRECON_INBOX": str(inbox),
        "SHOPIFY_ACCESS_TOKEN": access_token or f"shpat_sandbox_{secrets.token_hex(12)}",
        "STRIPE_API_KEY": f"rk_test_sandbox_{secrets.token_hex(12)}",
        "AMAZON_LWA_CLIENT_ID": f"amzn1.application-oa2-client.{secrets.token_hex(16)}",
        "AMAZON_LWA_CLIENT_SECRET": secrets.token_hex(32),
        "AMAZON_LWA_REFRESH_TOKEN": f"Atzr|{secrets.token_hex(24)}",
        "SQUARE_ACCESS_TOKEN": f"EAAAsandbox{secrets.token_hex(16)}",
        "WMS_API_KEY": f"wms_sandbox_{secrets.token_hex(12)}",
        "ERP_API_TOKEN": f"erp_sandbox_{secrets.token_hex(12)}",
        "MARKETPLACE_API_TOKEN": f"bzly_sandbox_{secrets.token_hex(12)}",
        "AMAZON_SELLER_ID": SANDBOX_SELLER_ID,
        "SHOPIFY_WEBHOOK_SECRET": secrets.token_hex(16),
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(16)}",
        "ADYEN_HMAC_KEY": secrets.token_hex(32),
    }
    # A Shopify Plus shop's REST limits (bucket of 400, 20 requests a second leak) unless told otherwise.
    shopify_api_options = {"bucket_size": 400, "leak_per_second": 20.0, **shopify_api_options}
    apis: dict[str, FakeVendorAPI] = {
        "shopify": FakeShopifyAdminAPI(world.store, env["SHOPIFY_ACCESS_TOKEN"], port=port, **shopify_api_options),
        "stripe": FakeStripeAPI(world.channels["stripe"], env["STRIPE_API_KEY"]),
        "amazon": FakeSellingPartnerAPI(world.channels["amazon"], env["AMAZON_LWA_CLIENT_ID"],
                                        env["AMAZON_LWA_CLIENT_SECRET"], env["AMAZON_LWA_REFRESH_TOKEN"]),
        "square": FakeSquareAPI(world.channels["pos"], env["SQUARE_ACCESS_TOKEN"]),
        "wms": FakeWmsAPI(world.channels["wms"], env["WMS_API_KEY"]),
        "erp": FakeErpAPI(world.channels["erp"], env["ERP_API_TOKEN"]),
        "marketplace": FakeMarketplaceListingsAPI(env["MARKETPLACE_API_TOKEN"]),
    }
    for api in apis.values():
        api.start()
    env.update({"SHOPIFY_SHOP_URL": apis["shopify"].base_url, "STRIPE_BASE_URL": apis["stripe"].base_url,
                "AMAZON_SP_API_BASE_URL": apis["amazon"].base_url, "AMAZON_LWA_TOKEN_URL": apis["amazon"].token_url,
                "SQUARE_BASE_URL": apis["square"].base_url, "WMS_BASE_URL": apis["wms"].base_url,
                "ERP_BASE_URL": apis["erp"].base_url + "/api/v1",
                "MARKETPLACE_API_BASE_URL": apis["marketplace"].base_url})
    manifest = write_manifest(world, folder / "ground_truth.json")
    return RunningSandbox(world, apis, env, inbox, manifest, dropped)
