"""The posting layer across a month end, built for real on DuckDB and on PostgreSQL from the same raw data.

A sandbox window from 29 October to 2 November with every channel: payouts that collect October lines and
pay out in November, store tips, gift cards and cash, web orders paid through Shopify Payments and Stripe,
refunds (one of a web order in a store). On both warehouses:

- every sales, settlement and COGS journal equals the sandbox's ground truth account by account, with
  status and reasons; a payout spanning the month end is split into a batch per month with a roll-forward;
- every ready batch balances in its own and in the functional currency, and its bank line is the deposit;
- every journal line drills down to its sources and they sum back to it exactly;
- the journals are summarised: a handful of lines per batch, not one per order;
- the rows are identical on the two warehouses.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from connectors.sandbox.simulator import SandboxConfig, simulate
from connectors.warehouse import connect
from orchestration.defs.finance.posting_gate import BANK_LINE_DIFFERS_SQL, unbalanced_batches
from orchestration.reconciliation_summary import differences_from_truth
from tests.sandbox_raw import load_sandbox_raw, postgres_replica, query, run_dbt

CONFIG = SandboxConfig(seed=3, start_date=date(2026, 10, 29), days=5, orders_per_day=15, anomaly_rate=0.1)
TRUTH = simulate(CONFIG).ground_truth
POSTINGS = ["+posting_batches", "+journal_line_sources", "+settlement_matches"]
TARGETS = ["duckdb", "postgres"]


@pytest.fixture(scope="module")
def warehouses(postgres_server, tmp_path_factory):
    work = tmp_path_factory.mktemp("postings")
    _, duckdb_path = load_sandbox_raw(CONFIG, work / "home")
    run_dbt(["build", "--select", *POSTINGS], duckdb_path, work / "duckdb")
    with postgres_replica(postgres_server, work / "home", "postings") as (pg_dsn, env):
        run_dbt(["build", "--select", *POSTINGS], None, work / "postgres", target="postgres", env=env)
        yield {"duckdb": str(duckdb_path), "postgres": pg_dsn}


@pytest.mark.parametrize("target", TARGETS)
def test_every_journal_equals_the_truth(warehouses, target):
    # The window must hold what the rules are about, or the comparison proves little.
    split = [j for j in TRUTH["settlement_journals_by_payout"] if "1198" in j["accounts"]]
    assert {j["provider"] for j in split} >= {"shopify_payments", "adyen", "amazon"}
    sales_accounts = {account for j in TRUTH["sales_journals"] for account in j["accounts"]}
    assert {"2160", "2150", "1050", "1150", "1160", "1170", "4300"} <= sales_accounts
    with connect(warehouses[target]) as warehouse:
        assert differences_from_truth(warehouse, TRUTH) == []


@pytest.mark.parametrize("target", TARGETS)
def test_a_payout_across_the_month_end_closes_each_month_on_its_own(warehouses, target):
    rows = query(warehouses[target], """
        select b.provider, b.payout_id, b.posting_date, p.payout_date, l.account_code,
               sum(l.debit_amount - l.credit_amount)
        from marts.posting_batches b
        join marts.payouts p on p.provider = b.provider and p.payout_id = b.payout_id
        join marts.journal_lines l on l.batch_id = b.batch_id
        where b.journal_type = 'settlement'
        group by b.provider, b.payout_id, b.posting_date, p.payout_date, l.account_code""")
    batches = defaultdict(dict)
    for provider, payout, posted, paid, account, amount in rows:
        batches[(provider, payout)].setdefault(posted, {"paid": paid})[account] = amount
    split = {payout: dates for payout, dates in batches.items() if len(dates) > 1}
    assert split, "no payout spans the month end: the test proves nothing"
    for payout, dates in split.items():
        assert sorted(map(str, dates)) == ["2026-10-31", str(dates[min(dates)]["paid"])], payout
        october, november = dates[min(dates)], dates[max(dates)]
        assert "1010" not in october and "1010" in november  # the money reaches the bank in November
        # October's batch balances by its roll-forward, which November takes back
        assert october["1198"] == -sum(a for k, a in october.items() if k not in ("paid", "1198"))
        assert october["1198"] + november["1198"] == 0


@pytest.mark.parametrize("target", TARGETS)
def test_ready_batches_balance_in_both_currencies_and_bank_lines_are_the_deposits(warehouses, target):
    with connect(warehouses[target]) as warehouse:
        assert unbalanced_batches(warehouse) == []
        assert warehouse.fetchall(BANK_LINE_DIFFERS_SQL) == []
        ready = dict(warehouse.fetchall("select journal_type, count(*) from marts.posting_batches "
                                        "where status = 'ready' group by journal_type"))
        held = warehouse.fetchall("select count(*) from marts.posting_batches where status = 'blocked'")[0][0]
    assert set(ready) == {"sales", "settlement", "cogs"} and held > 0


@pytest.mark.parametrize("target", TARGETS)
def test_every_journal_line_drills_down_to_sources_that_sum_back_exactly(warehouses, target):
    differing = query(warehouses[target], """
        with sources as (
            select journal_line_id, sum(amount) as amount, count(*) as records
            from marts.journal_line_sources group by journal_line_id
        )
        select l.journal_line_id, l.debit_amount - l.credit_amount, s.amount
        from marts.journal_lines l left join sources s on s.journal_line_id = l.journal_line_id
        where s.amount is null or s.amount <> l.debit_amount - l.credit_amount""")
    assert differing == []
    # a sales journal's sources are real orders and payment events
    orphans = query(warehouses[target], """
        select s.source_type, s.source_id from marts.journal_line_sources s
        left join marts.orders o on s.source_type = 'order' and o.order_key = s.source_id
        left join marts.payments p on s.source_type = 'payment' and p.payment_key = s.source_id
        where s.source_type in ('order', 'payment') and o.order_key is null and p.payment_key is null""")
    assert orphans == []


def test_journals_are_summarised_not_one_line_per_order(warehouses):
    (orders, lines, batches), = query(warehouses["duckdb"], """
        select (select count(*) from marts.orders),
               (select count(*) from marts.journal_lines l join marts.posting_batches b using (batch_id)
                where b.journal_type = 'sales'),
               (select count(*) from marts.posting_batches where journal_type = 'sales')""")
    assert orders > 200
    # at most revenue, discounts, shipping, tax, tips, refunds and one clearing line per way of paying
    assert lines <= batches * 11 and lines < orders / 2


@pytest.mark.parametrize("mart", ["posting_batches", "journal_lines", "journal_line_sources"])
def test_postgres_builds_the_same_rows(warehouses, mart):
    order = {"posting_batches": "batch_id", "journal_lines": "journal_line_id",
             "journal_line_sources": "journal_line_source_id"}[mart]

    def rows(target):
        return [tuple(Decimal(v).normalize() if isinstance(v, Decimal) else str(v) for v in row)
                for row in query(warehouses[target], f"select * from marts.{mart} order by {order}")]

    duck = rows("duckdb")
    assert duck and duck == rows("postgres")
