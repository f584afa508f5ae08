"""The matching's marts repeated to a peak-season size: each copy a world of its own, references intact."""
import duckdb

from orchestration.benchmark.matching_volume import copies_for, repeat_matching_inputs


def _marts():
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.execute("create table marts.orders (order_id varchar, channel_id varchar, order_total decimal(18, 4), "
                       "currency varchar)")
    connection.execute("insert into marts.orders values ('O1', 'amazon_us', 10, 'USD'), ('O2', 'amazon_us', 5, 'EUR')")
    connection.execute("create table marts.payments (payment_id varchar, provider_reference varchar, order_id varchar, "
                       "gross_amount decimal(18, 4), currency varchar)")
    connection.execute("insert into marts.payments values ('P1', 'ch_1', 'O1', 10, 'USD'), ('P2', null, null, 3, 'USD')")
    connection.execute("create table marts.settlement_lines (settlement_line_id varchar, order_reference varchar, "
                       "payment_reference varchar, gross_amount decimal(18, 4), currency varchar)")
    connection.execute("insert into marts.settlement_lines values ('L1', 'O1', 'ch_1', 10, 'USD'), "
                       "('L2', null, null, 3, 'USD')")
    return connection


def test_every_copy_keeps_its_references_and_meets_no_other_copy():
    connection = _marts()

    rows = repeat_matching_inputs(connection, 3)

    assert rows == {"settlement_lines": 6, "payments": 6, "orders": 6}
    lines = connection.execute("select settlement_line_id, order_reference, payment_reference, gross_amount, currency "
                               "from marts.settlement_lines order by 1").fetchall()
    assert [line[0] for line in lines] == ["L1~0", "L1~1", "L1~2", "L2~0", "L2~1", "L2~2"]
    # a reference points at the same copy's record; a missing one stays missing; amounts are untouched
    assert lines[1][1:] == ("O1~1", "ch_1~1", 10, "USD~1") and lines[4][1:] == (None, None, 3, "USD~1")
    # every line still finds exactly its own payment and order, and the unreferenced ones cannot meet another
    # copy's counterparts (the currency differs), so matching finds each match once per copy
    (joined,) = connection.execute(
        "select count(*) from marts.settlement_lines l join marts.payments p on l.payment_reference = "
        "p.provider_reference and l.currency = p.currency join marts.orders o on l.order_reference = o.order_id "
        "and o.order_id = p.order_id").fetchone()
    (by_amount,) = connection.execute(
        "select count(*) from marts.settlement_lines l join marts.payments p on l.gross_amount = p.gross_amount "
        "and l.currency = p.currency where l.payment_reference is null").fetchone()
    assert joined == 3 and by_amount == 3


def test_copies_reach_the_orders_asked_for():
    assert copies_for(1_000_000, 191.0) == 5236 and 5236 * 191 >= 1_000_000
    assert copies_for(100, 500.0) == 1
