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
        "select batch_id, journal_type, coalesce(provider, channel_id || ' ' || location_id, location_id), payout_id, "
        "posting_date, currency, total_debit, total_credit, is_balanced, status, blocked_reason "
        "from marts.posting_batches order by journal_type desc, posting_date, batch_id")
    return {
        "settlement_lines": {"total": lines, "matched": matched, "unmatched": lines - matched - no_match_needed,
                             "no_match_needed": no_match_needed},
        "matches_by_rule": dict(warehouse.fetchall(
            "select match_rule, count(*) from marts.settlement_matches group by match_rule order by match_rule")),
        "exceptions_by_reason": dict(warehouse.fetchall(
            "select reason_code, count(*) from marts.reconciliation_exceptions group by reason_code order by reason_code")),
        "posting_batches": [
            {"batch_id": b, "journal_type": jt, "provider": pr, "payout_id": p, "posting_date": str(d), "currency": c,
             "debit": Decimal(dr), "credit": Decimal(cr), "balanced": bool(ok), "status": st, "blocked_reason": why}
            for b, jt, pr, p, d, c, dr, cr, ok, st, why in batches],
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
        state = "ready" if b["status"] == "ready" else f"held: {b['blocked_reason']}"
        what = {"settlement": f"payout {b['payout_id']}", "sales": "sales and refunds"}.get(b["journal_type"],
                                                                                          "cost of goods sold")
        out.append(f"  {b['batch_id']}  {b['journal_type']:<10} {b['provider']:<20} {what:<40} {b['posting_date']}  "
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
    compare("settlement journals of every provider", settlement_journals(warehouse),
            {_journal_key(j["provider"], j["payout_id"], j["posting_date"], j["status"], j["blocked_reasons"],
                          {account: Decimal(amount) for account, amount in j["accounts"].items()})
             for j in truth["settlement_journals_by_payout"]})
    for journal_type, name in (("sales", "sales journals"), ("cogs", "COGS journals")):
        compare(name, daily_journals(warehouse, journal_type),
                {(j["legal_entity_id"], j.get("channel_id"), j["location_id"], j["business_date"], j["currency"],
                  tuple(sorted((account, Decimal(amount)) for account, amount in j["accounts"].items())))
                 for j in truth[f"{journal_type}_journals"]})
    return diffs


def daily_journals(warehouse, journal_type: str) -> set[tuple]:
    """Each sales or COGS batch as (entity, channel, location, business date, currency,
    ((account, debit - credit), ...)); a COGS batch has no channel."""
    accounts = _accounts_by_batch(warehouse)
    return {(entity, channel, location, str(day), currency, tuple(sorted(accounts.get(batch_id, {}).items())))
            for batch_id, entity, channel, location, day, currency in warehouse.fetchall(
                "select batch_id, legal_entity_id, channel_id, location_id, posting_date, currency "
                f"from marts.posting_batches where journal_type = '{journal_type}'")}


def _journal_key(provider, payout_id, posting_date, status, reasons, accounts: dict) -> tuple:
    return (provider, str(payout_id), str(posting_date), status, tuple(sorted(reasons)),
            tuple(sorted((account, amount) for account, amount in accounts.items() if amount)))


def _accounts_by_batch(warehouse) -> dict[str, dict[str, Decimal]]:
    """{batch id: {account: debit - credit}} from the journal lines."""
    accounts: dict[str, dict] = {}
    for batch_id, account, amount in warehouse.fetchall(
            "select batch_id, account_code, sum(debit_amount - credit_amount) from marts.journal_lines "
            "group by batch_id, account_code"):
        accounts.setdefault(batch_id, {})[account] = Decimal(amount)
    return accounts


def settlement_journals(warehouse) -> set[tuple]:
    """Each batch as (provider, payout, posting date, status, reasons, ((account, debit - credit), ...))."""
    accounts = _accounts_by_batch(warehouse)
    return {_journal_key(provider, payout, day, status, (reason or "").split(", ") if reason else [],
                         accounts.get(batch_id, {}))
            for batch_id, provider, payout, day, status, reason in warehouse.fetchall(
                "select batch_id, provider, payout_id, posting_date, status, blocked_reason from marts.posting_batches "
                "where journal_type = 'settlement'")}


def accuracy(warehouse, truth: dict) -> dict[str, dict]:
    """How the reconciliation scores against the sandbox's truth, per provider and overall:
    precision (matched line-counterpart pairs the truth also has), auto-match rate (lines the truth
    says are matchable that were matched to the right counterpart), and the injected anomalies found
    with the right reason (exceptions the truth expects; and how many it does not)."""
    found_pairs = {(p, str(line), str(c)) for p, line, c in warehouse.fetchall(
        "select provider, settlement_line_id, counterpart_id from marts.settlement_matches")}
    true_pairs = {(m["provider"], m["settlement_line_id"], m["counterpart_id"]) for m in truth["matches"]}
    found_exceptions = {tuple(map(str, row)) for row in warehouse.fetchall(
        "select provider, reason_code, reference_type, reference_id from marts.reconciliation_exceptions")}
    true_exceptions = {(e["provider"], e["reason_code"], e["reference_type"], e["reference_id"])
                       for e in truth["exceptions"]}
    providers = sorted({p for p, *_ in found_pairs | true_pairs | found_exceptions | true_exceptions})

    def score(provider: str | None) -> dict:
        def mine(rows):
            return {row for row in rows if provider is None or row[0] == provider}
        found, true = mine(found_pairs), mine(true_pairs)
        matchable_lines = {line for _, line, _ in true}
        right_lines = {line for _, line, _ in found & true}
        # a line matched right only when all of its true counterparts (one_to_many) were found
        wrong_lines = {line for _, line, _ in true - found}
        found_exc, true_exc = mine(found_exceptions), mine(true_exceptions)
        return {
            "matches": len(found), "false_matches": len(found - true),
            "precision": round(len(found & true) / len(found), 6) if found else 1.0,
            "matchable_lines": len(matchable_lines),
            "auto_matched_lines": len(right_lines - wrong_lines),
            "auto_match_rate": round(len(right_lines - wrong_lines) / len(matchable_lines), 6) if matchable_lines else 1.0,
            "anomalies": len(true_exc), "anomalies_found": len(true_exc & found_exc),
            "unexpected_exceptions": len(found_exc - true_exc),
        }

    return {**{provider: score(provider) for provider in providers}, "all": score(None)}


def render_accuracy(figures: dict[str, dict]) -> str:
    out = [f"  {'provider':<22} {'matches':>8} {'false':>6} {'precision':>10} {'matchable':>10} "
           f"{'auto-matched':>13} {'rate':>8} {'anomalies':>10} {'found':>6} {'unexpected':>11}"]
    for provider, f in figures.items():
        out.append(f"  {provider:<22} {f['matches']:>8} {f['false_matches']:>6} {f['precision']:>10.2%} "
                   f"{f['matchable_lines']:>10} {f['auto_matched_lines']:>13} {f['auto_match_rate']:>8.2%} "
                   f"{f['anomalies']:>10} {f['anomalies_found']:>6} {f['unexpected_exceptions']:>11}")
    return "\n".join(out)
