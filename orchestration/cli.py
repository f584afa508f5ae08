"""The `omnirecon` command: argument parsing only; the work is in orchestration/operations.py (run,
backfill, replay, status, sandbox serve), orchestration/demo.py and orchestration/exception_queue.py."""
from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from connectors.sandbox.simulator import SandboxConfig

LOG_LEVELS = ("debug", "info", "warning", "error")


def business_day(text: str) -> date:
    """An argparse type: a business day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a business day (YYYY-MM-DD): {text!r}") from None


def days_of(args, parser: argparse.ArgumentParser) -> list[str]:
    """The business days a command covers: --date D, or --from D --to D (both included)."""
    from orchestration.partitions import BusinessDayError, business_days_between

    single = getattr(args, "date", None)
    if single is not None and (args.first or args.last):
        parser.error("give --date, or --from and --to, not both")
    first, last = (single, single) if single is not None else (args.first, args.last)
    if first is None and last is None:
        parser.error("which business days? --date D, or --from D --to D")
    if first is None or last is None:
        parser.error("--from and --to go together")
    try:
        return business_days_between(first, last)
    except BusinessDayError as error:
        parser.error(str(error))


def _add_sandbox_options(command: argparse.ArgumentParser, defaults: SandboxConfig) -> None:
    command.add_argument("--seed", type=int, default=defaults.seed)
    command.add_argument("--start-date", type=business_day, default=defaults.start_date)
    command.add_argument("--days", type=int, default=defaults.days)
    command.add_argument("--orders-per-day", type=int, default=defaults.orders_per_day)
    command.add_argument("--anomaly-rate", type=float, default=defaults.anomaly_rate)


def _add_range(command: argparse.ArgumentParser, *, single_day: bool) -> None:
    days = command.add_argument_group("business days (America/New_York; the last one is yesterday)")
    if single_day:
        days.add_argument("--date", type=business_day, help="one business day")
    # a range command needs both ends; `run` takes --date instead (days_of checks the combinations)
    days.add_argument("--from", dest="first", type=business_day, metavar="DAY", required=not single_day,
                      help="the first business day")
    days.add_argument("--to", dest="last", type=business_day, metavar="DAY", required=not single_day,
                      help="the last business day (included)")
    command.add_argument("--log-level", choices=LOG_LEVELS, default="warning",
                         help="Dagster's log on stderr (default: warning; info shows every step and dbt node)")
    command.set_defaults(command_parser=command)  # its own usage line in an error about the days


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnirecon", description="Omnichannel retail reconciliation.")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = SandboxConfig()
    for name, text in (("demo", "run the whole pipeline on the sandbox retailer and print what it found"),
                       ("dev", "serve the sandbox APIs and the Dagster UI")):
        _add_sandbox_options(commands.add_parser(name, help=text), defaults)
    commands.choices["dev"].add_argument("--port", type=int, default=3000)
    commands.choices["demo"].add_argument(
        "--replay", action="store_true",
        help="then rebuild, backfill and re-deliver every file and webhook, scoring after each")
    commands.choices["demo"].add_argument("--backfill-days", type=int, default=None,
                                          help="with --replay: backfill only the last N days (default: every day)")

    run = commands.add_parser("run", help="close business days one by one, in this process: the inbox, each "
                                          "day's pulls from every API source, then that day's close")
    _add_range(run, single_day=True)
    backfill = commands.add_parser("backfill", help="pull every day of a range, then close the whole range in ONE "
                                                    "run (through the Dagster daemon when one is running)")
    _add_range(backfill, single_day=False)
    backfill.add_argument("--in-process", action="store_true",
                          help="run here even when a Dagster daemon is running")
    replay = commands.add_parser("replay", help="reload a range's raw tables from the landing zone and rebuild it, "
                                                "calling no vendor API (nothing is exported or published)")
    _add_range(replay, single_day=False)
    status = commands.add_parser("status", help="latest runs, closed business days, open exceptions by reason, "
                                                "held and ready batches, last ERP postings")
    status.add_argument("--runs", type=int, default=10, help="how many of the latest runs to show (default 10)")
    bench = commands.add_parser("bench", help="the whole pipeline on a sandbox of this size in a throwaway home, "
                                              "measured per stage (wall time, rows/s, peak memory)")
    bench.add_argument("--orders-per-day", type=int, default=200, help="orders a day across every channel, in the sandbox's channel mix (default 200)")
    bench.add_argument("--days", type=int, default=3, help="business days; 3+ for PSP settlements (default 3)")
    bench.add_argument("--seed", type=int, default=defaults.seed)
    bench.add_argument("--start-date", type=business_day, default=None,
                       help="the first day (default: the sandbox's, or the latest days that have ended)")
    bench.add_argument("--json", type=Path, default=None, help="the report (default .omnirecon/bench/bench-<time>.json)")
    bench.add_argument("--home", type=Path, default=None, help="the throwaway home, wiped first (default "
                                                               ".omnirecon/bench/home)")
    bench.add_argument("--history-days", type=int, nargs="+", default=None, metavar="H",
                       help="instead: the newest day's pull, close and 15-minute ATS cycle on top of H days of "
                            "history, for each H (e.g. 1 30), and how they compare")
    bench.add_argument("--matching-at", type=int, nargs="+", default=(), metavar="N",
                       help="then settlement matching at N orders a day, for each N (e.g. 100000 1000000): the "
                            "close's marts repeated to that size, dbt's matching models against the baseline")
    sandbox = commands.add_parser("sandbox", help="the sandbox retailer").add_subparsers(dest="action", required=True)
    _add_sandbox_options(sandbox.add_parser("serve", help="serve the sandbox's vendor APIs on loopback and drop its "
                                                          "files in its inbox, until Ctrl-C"), defaults)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.command == "webhooks":
        return _serve_webhooks(args.host, args.port)
    if args.command == "exceptions":
        if args.action == "list":
            return _list_exceptions(args.status, args.reason)
        return _resolve_exception(args.exception_id, args.decision, args.note, args.decided_by)
    if args.command in ("run", "backfill", "replay", "status", "sandbox"):
        days = days_of(args, args.command_parser) if args.command in ("run", "backfill", "replay") else []
        from orchestration import operations

        if args.command == "status":
            return operations.status_command(args.runs)
        if args.command == "sandbox":
            return operations.sandbox_serve_command(_sandbox_config(args))
        if args.command == "run":
            return operations.run_command(days, args.log_level)
        if args.command == "backfill":
            return operations.backfill_command(days, args.log_level, in_process=args.in_process)
        return operations.replay_command(days, args.log_level)

    if args.command == "bench":
        from orchestration.benchmark.run import BENCH_ROOT, bench_command, bench_config

        if args.history_days:
            from orchestration.benchmark.incremental import incremental_command

            return incremental_command(args.orders_per_day, args.history_days, args.seed,
                                       args.json or BENCH_ROOT / "bench-incremental.json",
                                       args.home or BENCH_ROOT / "home")
        return bench_command(bench_config(args.orders_per_day, args.days, args.seed, args.start_date),
                             json_path=args.json, home=args.home, matching_at=tuple(args.matching_at))
    from orchestration import demo

    if args.command == "demo":
        return demo.run_demo(_sandbox_config(args), replay=args.replay, backfill_days=args.backfill_days)
    return demo.run_dev(_sandbox_config(args), port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
