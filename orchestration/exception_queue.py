"""The exception queue finance works from: it remembers what dbt forgets.

dbt rebuilds marts.reconciliation_exceptions from scratch on every run: it is the *current* set of
problems. Finance needs more: when a problem was first seen, whether it went away on its own (a late
settlement arrived), and what a person decided about it. That memory lives in the `finance_state`
schema, which dbt does not manage, so a `dbt build --full-refresh`, a rebuild or a backfill never
touches it.

    changes = sync_queue(warehouse, seen_at)             # after every build
    resolve(warehouse, exception_id, "accepted", "rounding, agreed with the PSP", "ana")
    rows = list_queue(warehouse, status="open")
    ageing_buckets(rows)                                  # {'0-2 days': n, '3-7 days': n, ...}

All SQL is set-based and portable between DuckDB and PostgreSQL: a sync is a handful of statements
whatever the number of exceptions, in one transaction, so a failed sync leaves the queue as it was.
Timestamps are stored as naive UTC `timestamp` values, which both engines read back the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from decimal import Decimal

SCHEMA = "finance_state"
QUEUE = f"{SCHEMA}.exception_queue"
DECISIONS = f"{SCHEMA}.exception_decisions"
CURRENT = "marts.reconciliation_exceptions"

DECISIONS_ALLOWED = ("accepted", "written_off")
STATUSES = ("open", "closed", *DECISIONS_ALLOWED)
RESOLVED_BY_DATA = "resolved_by_data"
# A unique prefix of an exception id must be long enough to be typed safely and read back in a log.
MIN_PREFIX = 8

# settlement line types that pay for something a channel recorded (the rest need no match)
MATCHABLE_LINE_TYPES = ("sale", "refund", "chargeback", "chargeback_reversal")
AGEING_BUCKETS = (("0-2 days", 0, 2), ("3-7 days", 3, 7), ("8-30 days", 8, 30), (">30 days", 31, None))

# The columns copied from the current exceptions; the queue adds its own memory after them.
EXCEPTION_COLUMNS = ("exception_id", "reason_code", "provider", "reference_type", "reference_id", "order_id",
                     "payout_id", "amount", "currency", "detail")

CREATE_STATEMENTS = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {QUEUE} (
        exception_id varchar primary key,
        reason_code varchar not null,
        provider varchar,
        reference_type varchar not null,
        reference_id varchar not null,
        order_id varchar,
        payout_id varchar,
        amount numeric(18,4),
        currency varchar,
        detail varchar,
        first_seen_at timestamp not null,
        last_seen_at timestamp not null,
        closed_at timestamp,
        close_reason varchar,
        status varchar not null
    )""",
    # Append-only: a decision is never updated or deleted, the latest one counts.
    f"""create table if not exists {DECISIONS} (
        exception_id varchar not null,
        decision_number integer not null,
        decision varchar not null,
        note varchar not null,
        decided_by varchar not null,
        decided_at timestamp not null
    )""",
)

# The latest decision on a queue row q, or null: decision_number orders decisions made in the same instant.
LATEST_DECISION = f"""(select d.decision from {DECISIONS} d where d.exception_id = {QUEUE}.exception_id
                       order by d.decision_number desc limit 1)"""


class QueueError(ValueError):
    """A request the queue refuses (unknown id, bad decision, missing note): the message says why."""


@dataclass(frozen=True)
class QueueChanges:
    """What one sync did, as exception ids."""

    opened: tuple[str, ...]
    still_open: tuple[str, ...]
    closed: tuple[str, ...]
    reopened: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class QueueEntry:
    """One exception as finance sees it: the problem, its history, and its age in days."""

    exception_id: str
    reason_code: str
    provider: str | None
    reference_type: str
    reference_id: str
    order_id: str | None
    payout_id: str | None
    amount: Decimal | None
    currency: str | None
    detail: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    status: str
    age_days: int


def _utc_naive(moment: datetime) -> datetime:
    """Stored form of a timestamp: UTC without a zone (a naive value is taken to be UTC already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _in_transaction(warehouse, statements) -> None:
    warehouse.begin()
    try:
        for sql, params in statements:
            warehouse.execute(sql, params)
        warehouse.commit()
    except BaseException:
        warehouse.rollback()
        raise


def ensure_queue_tables(warehouse) -> None:
    """Create the finance_state schema and its tables when missing (never drops or alters anything)."""
    _in_transaction(warehouse, [(sql, None) for sql in CREATE_STATEMENTS])


CLASSIFY_SQL = f"""
select c.exception_id,
       case when q.exception_id is null then 'opened'
            when q.closed_at is null then 'still_open'
            else 'reopened' end as change
from {CURRENT} c
left join {QUEUE} q on q.exception_id = c.exception_id
union all
select q.exception_id, 'closed'
from {QUEUE} q
where q.closed_at is null
  and not exists (select 1 from {CURRENT} c where c.exception_id = q.exception_id)
"""

# Still there (or back): refresh what the data says now; a reopened row keeps its first_seen_at.
REFRESH_SQL = f"""
update {QUEUE} set
    reason_code = c.reason_code, provider = c.provider, reference_type = c.reference_type,
    reference_id = c.reference_id, order_id = c.order_id, payout_id = c.payout_id,
    amount = c.amount, currency = c.currency, detail = c.detail,
    last_seen_at = ?, closed_at = null, close_reason = null
from {CURRENT} c
where c.exception_id = {QUEUE}.exception_id
"""

# Gone from the current exceptions: the data resolved it (e.g. a late settlement arrived).
CLOSE_SQL = f"""
update {QUEUE} set closed_at = ?, close_reason = '{RESOLVED_BY_DATA}'
where closed_at is null
  and not exists (select 1 from {CURRENT} c where c.exception_id = {QUEUE}.exception_id)
"""

OPEN_SQL = f"""
insert into {QUEUE} ({", ".join(EXCEPTION_COLUMNS)}, first_seen_at, last_seen_at, closed_at, close_reason, status)
select {", ".join(f"c.{column}" for column in EXCEPTION_COLUMNS)}, ?, ?, null, null, 'open'
from {CURRENT} c
where not exists (select 1 from {QUEUE} q where q.exception_id = c.exception_id)
"""

# A person's decision outranks whatever the data does; without one, the data says open or closed.
STATUS_SQL = f"""
update {QUEUE} set status = coalesce({LATEST_DECISION},
                                     case when closed_at is null then 'open' else 'closed' end)
"""


def sync_queue(warehouse, seen_at: datetime) -> QueueChanges:
    """Bring the queue up to date with marts.reconciliation_exceptions as of `seen_at`, in one transaction."""
    ensure_queue_tables(warehouse)
    seen = _utc_naive(seen_at)
    warehouse.begin()
    try:
        changes: dict[str, list[str]] = {f.name: [] for f in fields(QueueChanges)}
        for exception_id, change in warehouse.fetchall(CLASSIFY_SQL):
            changes[change].append(exception_id)
        warehouse.execute(REFRESH_SQL, [seen])
        warehouse.execute(CLOSE_SQL, [seen])
        warehouse.execute(OPEN_SQL, [seen, seen])
        warehouse.execute(STATUS_SQL)
        warehouse.commit()
    except BaseException:
        warehouse.rollback()
        raise
    return QueueChanges(**{name: tuple(sorted(ids)) for name, ids in changes.items()})


def find_exception_id(warehouse, id_or_prefix: str) -> str:
    """The one queued exception whose id is `id_or_prefix` or starts with it (at least MIN_PREFIX characters)."""
    ensure_queue_tables(warehouse)
    wanted = id_or_prefix.strip().lower()
    if len(wanted) < MIN_PREFIX:
        raise QueueError(f"exception id {id_or_prefix!r} is too short: give the full id or at least "
                         f"{MIN_PREFIX} characters of it")
    exact = warehouse.fetchall(f"select exception_id from {QUEUE} where exception_id = ?", [wanted])
    if exact:
        return exact[0][0]
    found = [row[0] for row in warehouse.fetchall(
        f"select exception_id from {QUEUE} where exception_id like ? order by exception_id", [wanted + "%"])]
    if not found:
        raise QueueError(f"no exception {id_or_prefix!r} in the exception queue")
    if len(found) > 1:
        raise QueueError(f"exception id prefix {id_or_prefix!r} is ambiguous: it matches "
                         f"{', '.join(found[:5])}{' ...' if len(found) > 5 else ''}")
    return found[0]


def resolve(warehouse, exception_id: str, decision: str, note: str, decided_by: str,
            decided_at: datetime | None = None) -> None:
    """Record a person's decision on a queued exception; the latest decision sets its status for good."""
    if decision not in DECISIONS_ALLOWED:
        raise QueueError(f"decision must be one of {', '.join(DECISIONS_ALLOWED)}, not {decision!r}")
    if not (note or "").strip():
        raise QueueError("a note is required: say why the exception is " + decision.replace("_", " "))
    if not (decided_by or "").strip():
        raise QueueError("decided_by is required: who made the decision")
    ensure_queue_tables(warehouse)
    if not warehouse.fetchall(f"select 1 from {QUEUE} where exception_id = ?", [exception_id]):
        raise QueueError(f"no exception {exception_id!r} in the exception queue")
    when = _utc_naive(decided_at or datetime.now(timezone.utc))
    _in_transaction(warehouse, [
        (f"""insert into {DECISIONS} (exception_id, decision_number, decision, note, decided_by, decided_at)
             select ?, coalesce(max(decision_number), 0) + 1, ?, ?, ?, ?
             from {DECISIONS} where exception_id = ?""",
         [exception_id, decision, note.strip(), decided_by.strip(), when, exception_id]),
        (f"update {QUEUE} set status = ? where exception_id = ?", [decision, exception_id]),
    ])


def decisions(warehouse, exception_id: str) -> list[tuple]:
    """Every decision on one exception, oldest first: (decision, note, decided_by, decided_at)."""
    ensure_queue_tables(warehouse)
    return warehouse.fetchall(f"select decision, note, decided_by, decided_at from {DECISIONS} "
                              f"where exception_id = ? order by decision_number", [exception_id])


LIST_COLUMNS = (*EXCEPTION_COLUMNS, "first_seen_at", "last_seen_at", "closed_at", "close_reason", "status")


def _age_days(first_seen_at: datetime, closed_at: datetime | None, today: date) -> int:
    # A closed exception stopped ageing when it closed; an open one ages until today.
    end = closed_at.date() if closed_at is not None else today
    return (end - first_seen_at.date()).days


def list_queue(warehouse, status: str | None = None, reason: str | None = None,
               today: date | None = None) -> list[QueueEntry]:
    """Queued exceptions, oldest first, optionally of one status ('all' or None: every status) and reason."""
    if status not in (None, "all", *STATUSES):
        raise QueueError(f"status must be one of {', '.join(STATUSES)} or all, not {status!r}")
    ensure_queue_tables(warehouse)
    where, params = [], []
    if status not in (None, "all"):
        where.append("status = ?")
        params.append(status)
    if reason:
        where.append("reason_code = ?")
        params.append(reason)
    rows = warehouse.fetchall(
        f"select {', '.join(LIST_COLUMNS)} from {QUEUE}"
        + (f" where {' and '.join(where)}" if where else "")
        + " order by first_seen_at, reason_code, reference_id", params)
    today = today or datetime.now(timezone.utc).date()
    entries = []
    for row in rows:
        values = dict(zip(LIST_COLUMNS, row))
        entries.append(QueueEntry(**values, age_days=_age_days(values["first_seen_at"], values["closed_at"], today)))
    return entries


def ageing_buckets(rows: list[QueueEntry]) -> dict[str, int]:
    """How long the open exceptions have waited: a count per age bucket (every bucket present)."""
    buckets = {name: 0 for name, _, _ in AGEING_BUCKETS}
    for row in rows:
        if row.status != "open":
            continue
        for name, low, high in AGEING_BUCKETS:
            if row.age_days >= low and (high is None or row.age_days <= high):
                buckets[name] += 1
                break
    return buckets


def ageing_chart(buckets: dict[str, int], width: int = 30) -> str:
    """The ageing buckets as a text bar chart, e.g. `3-7 days   ████ 4`, scaled to `width` at the largest."""
    largest = max(buckets.values(), default=0)
    label_width = max((len(name) for name in buckets), default=0)
    lines = []
    for name, count in buckets.items():
        bar = "█" * (round(count * width / largest) if largest else 0)
        if count and not bar:
            bar = "▏"  # a few among many still show
        lines.append(f"{name:<{label_width}} {bar} {count}" if bar else f"{name:<{label_width}} {count}")
    return "\n".join(lines)


def open_by_reason(warehouse) -> list[tuple]:
    """Open exceptions per reason and currency: (reason_code, currency, count, amount)."""
    ensure_queue_tables(warehouse)
    return warehouse.fetchall(f"select reason_code, currency, count(*), sum(amount) from {QUEUE} "
                              f"where status = 'open' group by reason_code, currency order by reason_code, currency")


def open_amount_by_currency(warehouse) -> list[tuple]:
    """What the open exceptions put at stake per currency: (currency, count, amount)."""
    ensure_queue_tables(warehouse)
    return warehouse.fetchall(f"select currency, count(*), sum(amount) from {QUEUE} "
                              f"where status = 'open' group by currency order by currency")


def match_rate_by_provider(warehouse) -> list[tuple]:
    """Auto-match rate per provider: (provider, matchable lines, matched lines, rate, unmatched gross amount).
    Fees, adjustments and reserves pay for nothing a channel recorded: they need no match."""
    rows = warehouse.fetchall(f"""
        select l.provider,
               count(*) as matchable,
               sum(case when m.settlement_line_id is not null then 1 else 0 end) as matched,
               sum(case when m.settlement_line_id is null then l.gross_amount else 0 end) as unmatched_amount
        from marts.settlement_lines l
        left join (select distinct settlement_line_id from marts.settlement_matches) m
            on m.settlement_line_id = l.settlement_line_id
        where l.line_type in ({", ".join(f"'{t}'" for t in MATCHABLE_LINE_TYPES)})
        group by l.provider
        order by l.provider""")
    return [(provider, int(matchable), int(matched), round(matched / matchable, 4) if matchable else 1.0,
             Decimal(unmatched or 0)) for provider, matchable, matched, unmatched in rows]


def payout_tie_out(warehouse) -> list[tuple]:
    """Payouts per provider and tie-out status (marts.payouts): (provider, status, payouts, stated amount)."""
    return warehouse.fetchall("select provider, tie_out_status, count(*), sum(stated_amount) from marts.payouts "
                              "group by provider, tie_out_status order by provider, tie_out_status")
