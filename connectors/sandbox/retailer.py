"""Start the sandbox retailer: simulate it, write its ground truth, serve its Shopify API on loopback."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from connectors.sandbox.shopify_api import FakeShopifyAdminAPI
from connectors.sandbox.simulator import SandboxConfig, SandboxWorld, simulate


@dataclass
class RunningSandbox:
    world: SandboxWorld
    shopify_api: FakeShopifyAdminAPI
    access_token: str
    manifest_path: Path

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the Shopify connector at this sandbox."""
        return {"SHOPIFY_SHOP_URL": self.shopify_api.base_url, "SHOPIFY_ACCESS_TOKEN": self.access_token}

    def stop(self) -> None:
        self.shopify_api.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def write_manifest(world: SandboxWorld, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(world.ground_truth, indent=2, sort_keys=True, default=str) + "\n")
    return path


def start_sandbox(config: SandboxConfig, folder: Path, *, port: int = 0, access_token: str | None = None,
                  **api_options) -> RunningSandbox:
    world = simulate(config)
    manifest = write_manifest(world, folder / "ground_truth.json")
    (folder / "config.json").write_text(json.dumps(asdict(config), indent=2, default=str) + "\n")
    token = access_token or f"shpat_sandbox_{secrets.token_hex(12)}"
    # A Shopify Plus shop's REST limits (bucket of 400, 20 requests a second leak) unless told otherwise.
    api_options = {"bucket_size": 400, "leak_per_second": 20.0, **api_options}
    api = FakeShopifyAdminAPI(world.store, token, port=port, **api_options).start()
    return RunningSandbox(world, api, token, manifest)
