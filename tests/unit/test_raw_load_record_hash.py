"""The record hash is the raw load's dedupe key across versions: a row loaded by an older omnirecon must
dedupe against the same row loaded now, so the hash of a row may never change, however it is computed."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from connectors import raw_load

ROW = {"id": 4201, "name": "#1001", "email": None,
       "created_at": datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5))),
       "date": date(2026, 11, 3), "taxes_included": True, "restock": False, "total_price": "12.50",
       "amount": Decimal("-3.1400"), "quantity": 0, "note": 'café "quoted", comma\nnewline'}


def _hash_as_first_released(table: str, row: dict) -> str:
    """The record hash exactly as the first raw load computed it."""
    def cell(value):
        if value is None:
            return raw_load.NULL
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    canonical = json.dumps([table, {k: cell(v) for k, v in row.items()}], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_record_hash_of_a_row_never_changes():
    # pinned: the digest the first release stored for this row
    assert raw_load._row_hash("orders", ROW) == "d35c7e1a8da3163e2d24251b7fd4d62cad727fb3e49f92d6b4b6d156d31f3db8"
    assert raw_load._row_hash("orders", ROW) == _hash_as_first_released("orders", ROW)


def test_every_kind_of_cell_hashes_as_it_did():
    values = [None, True, False, 0, 1, -7, 2**40, "", "x", "12.50", Decimal("0"), Decimal("1E+2"), Decimal("-0.0010"),
              1.5, date(2026, 1, 31), datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc),
              datetime(2026, 3, 29, 3, 0, tzinfo=timezone(timedelta(hours=2))), ["a", 1], {"nested": None}]
    for value in values:
        row = {"id": "r1", "value": value}
        assert raw_load._row_hash("t", row) == _hash_as_first_released("t", row), value
    # the same instant in two offsets is one row; a boolean is not the integer it equals
    assert raw_load._row_hash("t", {"at": datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)}) == raw_load._row_hash(
        "t", {"at": datetime(2026, 3, 29, 3, 0, tzinfo=timezone(timedelta(hours=2)))})
    assert raw_load._row_hash("t", {"flag": True}) != raw_load._row_hash("t", {"flag": 1})


def test_cells_are_written_as_they_are_hashed():
    digest, cells = raw_load._hashed_cells("orders", ROW)
    assert digest == raw_load._row_hash("orders", ROW)
    assert cells["email"] == raw_load.NULL and cells["taxes_included"] == "true" and cells["restock"] == "false"
    assert cells["created_at"] == "2026-11-02T14:30:15.123456+00:00" and cells["date"] == "2026-11-03"
    assert cells["amount"] == Decimal("-3.1400") and cells["quantity"] == 0
