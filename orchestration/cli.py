"""The `omnirecon` command."""
from __future__ import annotations

import argparse
from datetime import date

from connectors.sandbox.simulator import SandboxConfig


def _sandbox_config(args) -> SandboxConfig:
    return SandboxConfig(seed=args.seed, start_date=args.start_date, days=args.days,
                         orders_per_day=args.orders_per_day, anomaly_rate=args.anomaly_rate)


def _serve_webhooks(host: str, port: int) -> int:
    from connectors.webhooks.receiver import MissingSecret, WebhookSecrets, serve
    from orchestration import local_paths

    try:
        secrets = WebhookSecrets.from_env()
    except MissingSecret as error:
        raise SystemExit(f"omnirecon webhooks serve: {error}") from None
    print(f"omnirecon webhooks: listening on http://{host}:{port}/webhooks/{{shopify,stripe,adyen}}, "
          f"storing events under {local_paths.landing_root() / 'webhooks'}", flush=True)
    serve(host, port, local_paths.landing_root(), shopify_secret=secrets.shopify, stripe_secret=secrets.stripe,
          adyen_hmac_key=secrets.adyen_hmac_key)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omnirecon", description="Omnichannel retail reconciliation.")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = SandboxConfig()
    for name, text in (("demo", "run the whole pipeline on the sandbox retailer and print what it found"),
                       ("dev", "serve the sandbox APIs and the Dagster UI")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--seed", type=int, default=defaults.seed)
        command.add_argument("--start-date", type=date.fromisoformat, default=defaults.start_date)
        command.add_argument("--days", type=int, default=defaults.days)
        command.add_argument("--orders-per-day", type=int, default=defaults.orders_per_day)
        command.add_argument("--anomaly-rate", type=float, default=defaults.anomaly_rate)
    commands.choices["dev"].add_argument("--port", type=int, default=3000)
    webhooks = commands.add_parser("webhooks", help="the webhook receiver").add_subparsers(dest="action", required=True)
    serve = webhooks.add_parser("serve", help="receive Shopify, Stripe and Adyen webhooks and store each event once "
                                              "(secrets from SHOPIFY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, ADYEN_HMAC_KEY)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)

    if args.command == "webhooks":
        return _serve_webhooks(args.host, args.port)

    from orchestration import demo

    if args.command == "demo":
        return demo.run_demo(_sandbox_config(args))
    return demo.run_dev(_sandbox_config(args), port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
