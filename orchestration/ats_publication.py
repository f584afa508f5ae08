"""What was published to each channel, and what must be published now: the memory of the ATS pushes.

dbt rebuilds the ATS marts from scratch; the channels only need to hear what changed. The ledger
`outbound.ats_publications` (outside dbt, like finance_state) keeps every push with the channel's
answer, so a cycle pushes only the positions whose quantity differs from the last one a channel
accepted, and a re-run with nothing new pushes nothing.

    wanted = current_positions(warehouse)          # {publish_to: [AtsChange]} from the ATS marts, is_current rows
    changes = changes_to_push(warehouse, wanted)   # only what differs from the last accepted push
    record_pushes(warehouse, publish_to, publisher.push(changes[publish_to]), pushed_at)
"""
from __future__ import annotations

from datetime import datetime, timezone

from connectors.ats_publishing import PUSHED, AtsChange, PushResult

SCHEMA = "outbound"
PUBLICATIONS = f"{SCHEMA}.ats_publications"
# publish_to values (seeds/ats_channel_rules) whose API takes one quantity per location; the rest take one per SKU.
PER_LOCATION = ("shopify_inventory_levels",)
# A network position's location in the ledger: a key column that is never null compares the same on both engines.
NETWORK = "*"

CREATE_STATEMENTS = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {PUBLICATIONS} (
        pushed_at timestamp not null,
        publish_to varchar not null,
        channel_id varchar not null,
        sku varchar not null,
        location_id varchar not null,
        quantity integer not null,
        status varchar not null,
        reference varchar,
        error varchar
    )""",
)

CURRENT_POSITIONS = f"""
    select publish_to, channel_id, sku, location_id, available_to_sell
    from marts.available_to_sell
    where is_current and publish_to in ({", ".join(f"'{p}'" for p in PER_LOCATION)})
    union all
    select publish_to, channel_id, sku, '{NETWORK}', available_to_sell
    from marts.available_to_sell_by_channel
    where is_current and publish_to is not null and publish_to not in ({", ".join(f"'{p}'" for p in PER_LOCATION)})
"""

# The quantity each channel last accepted per SKU and location.
LAST_ACCEPTED = f"""
    select channel_id, sku, location_id, quantity
    from (
        select channel_id, sku, location_id, quantity,
               row_number() over (partition by channel_id, sku, location_id order by pushed_at desc) as recency
        from {PUBLICATIONS}
        where status = '{PUSHED}'
    ) as pushes
    where recency = 1
"""


def ensure_ledger(warehouse) -> None:
    for statement in CREATE_STATEMENTS:
        warehouse.execute(statement)


def current_positions(warehouse) -> dict[str, list[AtsChange]]:
    """The current ATS of every published channel, by the API it goes to (publish_to)."""
    wanted: dict[str, list[AtsChange]] = {}
    for publish_to, channel_id, sku, location_id, quantity in warehouse.fetchall(CURRENT_POSITIONS):
        location = None if location_id == NETWORK else location_id
        wanted.setdefault(publish_to, []).append(AtsChange(channel_id, sku, location, int(quantity)))
    return wanted


def changes_to_push(warehouse, wanted: dict[str, list[AtsChange]]) -> dict[str, list[AtsChange]]:
    """Only the positions whose quantity differs from what the channel last accepted (or that it never got)."""
    ensure_ledger(warehouse)
    accepted = {(c, s, loc): q for c, s, loc, q in warehouse.fetchall(LAST_ACCEPTED)}
    changes = {}
    for publish_to, positions in wanted.items():
        changed = [p for p in positions
                   if accepted.get((p.channel_id, p.sku, p.location_id or NETWORK)) != p.quantity]
        if changed:
            changes[publish_to] = changed
    return changes


def record_pushes(warehouse, publish_to: str, results: list[PushResult], pushed_at: datetime) -> None:
    """Append the channel's answers to the ledger, in one statement."""
    if not results:
        return
    ensure_ledger(warehouse)
    stamp = pushed_at.astimezone(timezone.utc).replace(tzinfo=None)
    values, params = [], []
    for result in results:
        change = result.change
        values.append("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
        params += [stamp, publish_to, change.channel_id, change.sku, change.location_id or NETWORK,
                   change.quantity, result.status, result.reference, result.error]
    warehouse.execute(f"insert into {PUBLICATIONS} (pushed_at, publish_to, channel_id, sku, location_id, quantity, "
                      f"status, reference, error) values {', '.join(values)}", params)


def publication_summary(warehouse, since: datetime) -> list[tuple]:
    """(channel, status, pushes) of the pushes at or after `since`, for run metadata."""
    stamp = since.astimezone(timezone.utc).replace(tzinfo=None)
    return warehouse.fetchall(f"select channel_id, status, count(*) from {PUBLICATIONS} where pushed_at >= ? "
                              f"group by channel_id, status order by channel_id, status", [stamp])


def ats_overview(warehouse) -> list[tuple]:
    """Per channel, now: SKUs offered, SKUs sold out, units offered, and the oversold order lines so far."""
    return warehouse.fetchall("""
        select ats.channel_id, count(*), sum(case when ats.available_to_sell = 0 then 1 else 0 end),
               sum(ats.available_to_sell), coalesce(max(oversold.order_lines), 0)
        from marts.available_to_sell_by_channel as ats
        left join (select channel_id, count(*) as order_lines from marts.oversold_order_lines group by channel_id)
            as oversold on oversold.channel_id = ats.channel_id
        where ats.is_current
        group by ats.channel_id
        order by ats.channel_id""")
