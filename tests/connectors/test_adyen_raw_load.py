"""raw_adyen loads the simulated Settlement details reports: good rows land, malformed ones are quarantined, once."""
from __future__ import annotations

from connectors import raw_load
from connectors.sandbox.channels import adyen as adyen_sim
from connectors.warehouse import connect
from tests.psp_card_payments import world_with

# a settlement row is identified by its batch and line: Adyen never rewrites a closed batch's report
ROW_KEY = "merchant_account || '/' || cast(batch_number as varchar) || '/' || cast(line_number as varchar)"


def test_dropped_reports_load_into_raw_adyen_once(tmp_path):
    world = world_with("adyen", malformed_rate=0.08)
    paths = adyen_sim.drop_files(adyen_sim.simulate(world), tmp_path / "inbox")
    truth = world.records["adyen"]
    assert truth["_quarantine"] > 0

    with connect(str(tmp_path / "w.duckdb")) as warehouse:
        first = raw_load.load_landed_files(warehouse, paths, source="adyen_settlements")
        assert first.files_loaded == len(paths) == 3 and first.quarantined == truth["_quarantine"]
        (rows, distinct), = warehouse.fetchall(
            f"select count(*), count(distinct {ROW_KEY}) from raw_adyen.settlement_details")
        assert rows == distinct == truth["settlement_details"]
        (quarantined,), = warehouse.fetchall("select count(*) from raw_adyen._quarantine")
        assert quarantined == truth["_quarantine"]
        # every batch's payout row landed next to whatever was quarantined in its file
        payouts = warehouse.fetchall("select batch_number, net_amount from raw_adyen.settlement_details "
                                     "where record_type = 'MerchantPayout' order by batch_number")
        deposits = sorted((d.payout_id, d.amount) for d in world.deposits if d.provider == "adyen")
        assert [(f"OmniReconRetailUS_POS batch {n}", -amount) for n, amount in payouts] == deposits

        again = raw_load.load_landed_files(warehouse, paths, source="adyen_settlements")
        assert again.files_skipped == 3 and again.files_loaded == 0
        assert warehouse.fetchall("select count(*) from raw_adyen.settlement_details")[0][0] == rows
        assert warehouse.fetchall("select count(*) from raw_adyen._quarantine")[0][0] == quarantined
