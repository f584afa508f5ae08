"""The yardstick for settlement matching: the six passes of int_finance__settlement_match_passes written by
hand as ONE DuckDB statement (ANTI JOIN, QUALIFY, GROUP BY ALL), over the same inputs the dbt models read:
marts.settlement_lines, marts.payments, marts.orders and seeds.settlement_providers.

It keeps only what settlement_matches keeps (no duplicate or ambiguous outcomes), so its rows must equal the
mart's to the cent: the bench checks that, then compares its time with what dbt spent on the matching
models. DuckDB-only on purpose: it measures how far the portable SQL is from what one engine can do.
"""
from __future__ import annotations

import time
from decimal import Decimal

from connectors.warehouse import duckdb_settings

MATCHES_SQL = """
with
providers as (select * from seeds.settlement_providers),
l as (
    select settlement_line_id as line_id, provider, line_type as kind, order_reference as ord,
           payment_reference as ref, gross_amount as amount, currency, posted_at,
           cast(posted_at at time zone 'UTC' as date) as posted_date
    from marts.settlement_lines
    where line_type in ('sale', 'refund', 'chargeback', 'chargeback_reversal')),
c0 as (
    select p.provider, p.payment_id as cp_id,
           case p.event_type when 'capture' then 'sale' else p.event_type end as kind,
           case s.reference_field when 'payment_id' then p.payment_id else p.provider_reference end as ref,
           p.order_id, p.gross_amount as amount, p.currency, p.business_date
    from marts.payments p join providers s on p.provider = s.provider and s.counterpart = 'payment'
    where p.event_type in ('capture', 'sale', 'refund', 'chargeback', 'chargeback_reversal')
    union all
    select s.provider, o.order_id, 'sale', o.order_id, o.order_id, o.order_total, o.currency, o.business_date
    from marts.orders o join providers s on o.channel_id = s.channel_id and s.counterpart = 'order'
    union all
    select s.provider, o.order_id, 'refund', o.order_id, o.order_id, -o.refunded_total, o.currency, o.business_date
    from marts.orders o join providers s on o.channel_id = s.channel_id and s.counterpart = 'order'
    where o.refunded_total > 0),
c as (select provider || ':' || kind || ':' || cp_id as ck, * from c0),
-- 1 exact_reference: the earliest line naming a payment settles it, later ones are duplicates
p1c as (
    select l.line_id, c.ck,
           count(*) over (partition by l.line_id) as per_line,
           row_number() over (partition by c.ck order by l.posted_at, l.line_id) as claim
    from l join c on l.provider = c.provider and l.kind = c.kind and l.currency = c.currency and l.ref = c.ref),
p1 as (select line_id, ck, 'exact_reference' as rule, null::varchar as grp from p1c where claim = 1 and per_line = 1),
dup as (select line_id from p1c where claim > 1 and per_line = 1),
l1 as (select * from l anti join p1 using (line_id) anti join dup using (line_id)),
c1 as (select * from c anti join p1 using (ck)),
-- 2 order_reference_amount: one line and one counterpart of the same order, kind and amount
p2 as (
    select l1.line_id, c1.ck, 'order_reference_amount' as rule, null::varchar as grp
    from l1 join c1 on l1.provider = c1.provider and l1.kind = c1.kind and l1.currency = c1.currency
        and l1.ord = c1.order_id and l1.amount = c1.amount
    qualify count(*) over (partition by l1.line_id) = 1 and count(*) over (partition by c1.ck) = 1),
l2 as (select * from l1 anti join p2 using (line_id)),
c2 as (select * from c1 anti join p2 using (ck)),
-- 3 many_to_one: 2+ lines of an order and kind summing to exactly one counterpart
g3 as (
    select provider, ord, kind, currency, sum(amount) as amount
    from l2 where ord is not null group by all having count(*) >= 2),
m3 as (
    select g3.provider, g3.ord, g3.kind, c2.ck
    from g3 join c2 on g3.provider = c2.provider and g3.kind = c2.kind and g3.currency = c2.currency
        and g3.ord = c2.order_id and g3.amount = c2.amount
    qualify count(*) over (partition by g3.provider, g3.ord, g3.kind) = 1),
p3 as (
    select l2.line_id, m3.ck, 'many_to_one' as rule, m3.provider || ':' || m3.ord || ':' || m3.kind as grp
    from m3 join l2 on m3.provider = l2.provider and m3.ord = l2.ord and m3.kind = l2.kind),
l3 as (select * from l2 anti join p3 using (line_id)),
c3 as (select * from c2 anti join p3 using (ck)),
-- 4 one_to_many: the one line left for an order and kind pays its 2+ counterparts left
s4 as (select * from l3 where ord is not null qualify count(*) over (partition by provider, ord, kind) = 1),
g4 as (
    select provider, order_id, kind, currency, sum(amount) as amount
    from c3 where order_id is not null group by all having count(*) >= 2),
p4 as (
    select s4.line_id, c3.ck, 'one_to_many' as rule, s4.provider || ':' || s4.ord || ':' || s4.kind as grp
    from s4 join g4 on s4.provider = g4.provider and s4.kind = g4.kind and s4.currency = g4.currency
        and s4.ord = g4.order_id and s4.amount = g4.amount
    join c3 on g4.provider = c3.provider and g4.kind = c3.kind and g4.order_id = c3.order_id),
l4 as (select * from l3 anti join p4 using (line_id)),
c4 as (select * from c3 anti join p4 using (ck)),
-- 5 amount_tolerance: unreferenced lines, only where the best candidate is strictly best both ways
t5 as (
    select l4.line_id, c4.ck, abs(l4.amount - c4.amount) as da, abs(l4.posted_date - c4.business_date) as dd
    from l4 join providers s on l4.provider = s.provider
    join c4 on l4.provider = c4.provider and l4.kind = c4.kind and l4.currency = c4.currency
    where s.date_tolerance_days > 0 and l4.ref is null and l4.ord is null
        and abs(l4.amount - c4.amount) <= s.amount_tolerance
        and abs(l4.posted_date - c4.business_date) <= s.date_tolerance_days),
r5 as (
    select *, rank() over (partition by line_id order by da, dd) as rl,
              rank() over (partition by ck order by da, dd) as rc
    from t5),
p5 as (
    select line_id, ck, 'amount_tolerance' as rule, null::varchar as grp from r5
    qualify rl = 1 and rc = 1 and sum((rl = 1)::int) over (partition by line_id) = 1
        and sum((rc = 1)::int) over (partition by ck) = 1),
l5 as (select * from l4 anti join p5 using (line_id)),
c5 as (select * from c4 anti join p5 using (ck)),
-- 6 order_reference: the rest of an order and kind against its one counterpart left, any amount
o6 as (
    select provider, order_id, kind, currency, min(ck) as ck
    from c5 where order_id is not null group by all having count(*) = 1),
p6 as (
    select l5.line_id, o6.ck, 'order_reference' as rule, l5.provider || ':' || l5.ord || ':' || l5.kind as grp
    from l5 join o6 on l5.provider = o6.provider and l5.kind = o6.kind and l5.currency = o6.currency
        and l5.ord = o6.order_id),
m as (
    select * from p1 union all select * from p2 union all select * from p3
    union all select * from p4 union all select * from p5 union all select * from p6),
mm as (
    select m.line_id, m.ck, m.rule, m.grp, l.provider, c.cp_id, l.amount as la, c.amount as ca
    from m join l on m.line_id = l.line_id join c on m.ck = c.ck),
gl as (select grp, sum(la) as total from (select distinct grp, line_id, la from mm where grp is not null) group by grp),
gc as (select grp, sum(ca) as total from (select distinct grp, ck, ca from mm where grp is not null) group by grp)
select mm.provider, mm.line_id, mm.cp_id, mm.rule,
       cast(coalesce(gl.total - gc.total, mm.la - mm.ca) as decimal(18, 4)) as variance
from mm left join gl on mm.grp = gl.grp left join gc on mm.grp = gc.grp
"""

MART_SQL = "select provider, settlement_line_id, counterpart_id, match_rule, variance from marts.settlement_matches"

# The dbt models whose work the baseline does: the counterparts, the passes (every outcome, which
# reconciliation_exceptions reads too) and the matches.
DBT_MATCHING_MODELS = ("int_finance__settlement_counterparts", "int_finance__settlement_match_passes",
                       "settlement_matches")


def _keys(rows) -> set[tuple]:
    return {(str(p), str(line), str(cp), str(rule), Decimal(v)) for p, line, cp, rule, v in rows}


def compare_with_mart(duckdb_path: str, dbt_model_seconds: dict[str, float]) -> dict:
    """Run the baseline once on the warehouse (read only), time it, and compare its matches with the mart's."""
    import duckdb

    with duckdb.connect(duckdb_path, read_only=True, config=duckdb_settings()) as connection:
        connection.execute("set TimeZone = 'UTC'")
        started = time.perf_counter()
        baseline = connection.execute(MATCHES_SQL).fetchall()
        seconds = time.perf_counter() - started
        mart = connection.execute(MART_SQL).fetchall()
    found, expected = _keys(baseline), _keys(mart)
    dbt_seconds = sum(dbt_model_seconds.get(name, 0.0) for name in DBT_MATCHING_MODELS)
    return {
        "baseline_seconds": seconds,
        "baseline_matches": len(baseline),
        "mart_matches": len(mart),
        "equal": found == expected and len(baseline) == len(mart),
        "only_in_baseline": sorted(map(str, found - expected))[:5],
        "only_in_mart": sorted(map(str, expected - found))[:5],
        "dbt_models_seconds": {name: dbt_model_seconds.get(name, 0.0) for name in DBT_MATCHING_MODELS},
        "dbt_seconds": dbt_seconds,
        "dbt_to_baseline_ratio": dbt_seconds / seconds if seconds > 0 else None,
    }
