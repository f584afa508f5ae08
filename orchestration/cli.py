"""The `omnirecon` command."""
from __future__ import annotations

import argparse
from datetime import date

from connectors.sandbox.simulator import SandboxConfig


def _sandbox_config(args) -> SandboxConfig:
    return SandboxConfig(seed=args.seed, start_date=args.start_date, days=args.days,
                         orders_per_day=args.orders_per_day, anomaly_rate=args.anomaly_rate)


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
    args = parser.parse_args(argv)

    from orchestration import demo

    if args.command == "demo":
        return demo.run_demo(_sandbox_config(args))
    return demo.run_dev(_sandbox_config(args), port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
