"""What a run found, read back from the warehouse: the figures `omnirecon demo` prints and tests compare."""
from __future__ import annotations

from decimal import Decimal

from orchestration.exception_queue import MATCHABLE_LINE_TYPES


def summarize(warehouse) -> dict:
    def scalar(sql: str):
        return warehouse.fetchall(sql)[0][0]

    lines = scalar("select count(*) from marts.settlement_lines")
    matched = scalar("select count(distinct settlement_line_id) from marts.settlement_matches")
    matchable = ", ".join(f"'{t}'" for t in MATCHABLE_LINE_TYPES)
    no_match_needed = scalar(f"select count(*) from marts.settlement_lines where line_type not in ({matchable})")
    batches = warehouse.fetchall(
        "select batch_id, payout_id, posting_date, currency, total_debit, total_credit, is_balanced "
        "from marts.posting_batches order by posting_date, batch_id")
    return {
        "settlement_lines": {"total": lines, "matched": matched, "unmatched": lines - matched - no_match_needed,
                             "no_match_needed": no_match_needed},
        "matches_by_rule": dict(warehouse.fetchall(
            "select match_rule, count(*) from marts.settlement_matches group by match_rule order by match_rule")),
        "exceptions_by_reason": dict(warehouse.fetchall(
            "select reason_code, count(*) from marts.reconciliation_exceptions group by reason_code order by reason_code")),
        "posting_batches": [
            {"batch_id": b, "payout_id": p, "posting_date": str(d), "currency": c,
             "debit": Decimal(dr), "credit": Decimal(cr), "balanced": bool(ok)}
            for b, p, d, c, dr, cr, ok in batches],
    }


def render(summary: dict) -> str:
    s = summary["settlement_lines"]
    out = [f"Settlement lines: {s['total']} total, {s['matched']} matched, {s['unmatched']} unmatched, "
           f"{s['no_match_needed']} need no match (fees, adjustments, reserves)"]
    out += [f"  matched by {rule:<24} {n:>5}" for rule, n in summary["matches_by_rule"].items()]
    out.append("Exceptions by reason:")
    out += [f"  {reason:<28} {n:>5}" for reason, n in summary["exceptions_by_reason"].items()] or ["  none"]
    out.append("Posting batches:")
    for b in summary["posting_batches"]:
        state = "balances" if b["balanced"] else "DOES NOT BALANCE"
        out.append(f"  {b['batch_id']}  payout {b['payout_id']}  {b['posting_date']}  "
                   f"Dr {b['debit']:.2f} / Cr {b['credit']:.2f} {b['currency']}  {state}")
    return "\n".join(out)


def differences_from_truth(warehouse, truth: dict) -> list[str]:
    """Every way the warehouse's reconciliation differs from the sandbox's ground truth (empty = exact)."""
    diffs = []

    def compare(name, found: set, expected: set):
        if found != expected:
            diffs.append(f"{name}: {len(found - expected)} unexpected {sorted(found - expected)[:5]}, "
                         f"{len(expected - found)} missing {sorted(expected - found)[:5]}")

    compare("matches",
            {(provider, str(line), str(counterpart), rule, Decimal(variance))
             for provider, line, counterpart, rule, variance in warehouse.fetchall(
                "select provider, settlement_line_id, counterpart_id, match_rule, variance from marts.settlement_matches")},
            {(m["provider"], m["settlement_line_id"], m["counterpart_id"], m["match_rule"], Decimal(m["variance"]))
             for m in truth["matches"]})
    compare("exceptions",
            set(map(tuple, warehouse.fetchall(
                "select provider, reason_code, reference_type, reference_id from marts.reconciliation_exceptions"))),
            {(e["provider"], e["reason_code"], e["reference_type"], e["reference_id"]) for e in truth["exceptions"]})
    compare("settlement journals",
            {(str(p), str(d), Decimal(bank), Decimal(fees), Decimal(clearing), Decimal(adj)) for p, d, bank, fees, clearing, adj
             in warehouse.fetchall("""
                select b.payout_id, b.posting_date,
                       sum(case when l.posting_role = 'bank' then l.debit_amount - l.credit_amount else 0 end),
                       sum(case when l.posting_role = 'processing_fees' then l.debit_amount - l.credit_amount else 0 end),
                       sum(case when l.posting_role = 'clearing' then l.credit_amount - l.debit_amount else 0 end),
                       sum(case when l.posting_role = 'adjustments' then l.credit_amount - l.debit_amount else 0 end)
                from marts.posting_batches b join marts.journal_lines l on l.batch_id = b.batch_id
                group by b.payout_id, b.posting_date""")},
            {(j["payout_id"], j["posting_date"], Decimal(j["bank_debit"]), Decimal(j["fees_debit"]),
              Decimal(j["clearing_credit"]), Decimal(j["adjustments_credit"])) for j in truth["settlement_journals"]})
    return diffs
