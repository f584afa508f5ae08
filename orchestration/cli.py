"""The `omnirecon` command."""
from __future__ import annotations

import argparse
import os
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


def _queue_warehouse():
    """The warehouse the Dagster resource would use: OMNIRECON_TARGET (duckdb or postgres) and its settings."""
    from orchestration.resources import WarehouseResource

    return WarehouseResource(target=os.environ.get("OMNIRECON_TARGET", "duckdb")).connect()


def _list_exceptions(status: str, reason: str | None) -> int:
    from orchestration.exception_queue import QueueError, list_queue

    try:
        with _queue_warehouse() as warehouse:
            rows = list_queue(warehouse, status=status, reason=reason)
    except QueueError as error:
        raise SystemExit(f"omnirecon exceptions list: {error}") from None
    if not rows:
        print(f"no {'' if status == 'all' else status + ' '}exceptions in the queue"
              + (f" with reason {reason}" if reason else ""))
        return 0
    header = ("id", "reason", "provider", "reference", "amount", "currency", "first seen (UTC)", "age", "status")
    table = [header] + [(r.exception_id[:12], r.reason_code, r.provider or "", f"{r.reference_type} {r.reference_id}",
                         f"{r.amount:.2f}" if r.amount is not None else "", r.currency or "",
                         r.first_seen_at.strftime("%Y-%m-%d %H:%M"), f"{r.age_days}d", r.status) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    right = {header.index("amount"), header.index("age")}  # numbers line up on the right
    for row in table:
        print("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    print(f"{len(rows)} exception{'s' if len(rows) != 1 else ''}")
    return 0


def _resolve_exception(exception_id: str, decision: str, note: str, decided_by: str | None) -> int:
    import getpass

    from orchestration.exception_queue import QueueError, find_exception_id, resolve

    who = decided_by or os.environ.get("USER") or getpass.getuser()
    try:
        with _queue_warehouse() as warehouse:
            full_id = find_exception_id(warehouse, exception_id)
            resolve(warehouse, full_id, decision, note, who)
    except QueueError as error:
        raise SystemExit(f"omnirecon exceptions resolve: {error}") from None
    print(f"exception {full_id} {decision.replace('_', ' ')} by {who}: {note}")
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
    commands.choices["demo"].add_argument(
        "--replay", action="store_true",
        help="then rebuild, backfill and re-deliver every file and webhook, scoring after each")
    commands.choices["demo"].add_argument("--backfill-days", type=int, default=None,
                                          help="with --replay: backfill only the last N days (default: every day)")
    webhooks = commands.add_parser("webhooks", help="the webhook receiver").add_subparsers(dest="action", required=True)
    serve = webhooks.add_parser("serve", help="receive Shopify, Stripe and Adyen webhooks and store each event once "
                                              "(secrets from SHOPIFY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, ADYEN_HMAC_KEY)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    exceptions = commands.add_parser("exceptions", help="finance's exception queue").add_subparsers(
        dest="action", required=True)
    listing = exceptions.add_parser("list", help="queued exceptions, oldest first")
    listing.add_argument("--status", choices=["open", "closed", "accepted", "written_off", "all"], default="open")
    listing.add_argument("--reason", help="only this reason code, e.g. amount_mismatch")
    deciding = exceptions.add_parser("resolve", help="record a decision on an exception (the latest decision counts)")
    deciding.add_argument("exception_id", help="the full id or a unique prefix of at least 8 characters")
    deciding.add_argument("--decision", choices=["accepted", "written_off"], required=True)
    deciding.add_argument("--note", required=True, help="why: kept with the decision")
    deciding.add_argument("--by", dest="decided_by", metavar="NAME", help="who decides (default: $USER)")
    args = parser.parse_args(argv)

    if args.command == "webhooks":
        return _serve_webhooks(args.host, args.port)
    if args.command == "exceptions":
        if args.action == "list":
            return _list_exceptions(args.status, args.reason)
        return _resolve_exception(args.exception_id, args.decision, args.note, args.decided_by)

    from orchestration import demo

    if args.command == "demo":
        return demo.run_demo(_sandbox_config(args), replay=args.replay, backfill_days=args.backfill_days)
    return demo.run_dev(_sandbox_config(args), port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
