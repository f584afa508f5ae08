"""A settlement file dropped in the inbox: the sensor asks for one run, the run lands and loads it."""
import shutil

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from connectors.warehouse import connect
from orchestration import local_paths
from tests.vendor_fixtures import vendor_fixture

ADYEN_REPORTS = vendor_fixture("adyen", "reports-wikimedia-smashpig")


def test_a_dropped_file_is_loaded_once(omnirecon_home, monkeypatch):
    from orchestration.definitions import defs

    adyen_settlements_inbox = defs.resolve_sensor_def("adyen_settlements_inbox")

    monkeypatch.setenv("OMNIRECON_INBOX", str(omnirecon_home / "inbox"))
    folder = local_paths.inbox_root() / "adyen_settlements"
    folder.mkdir(parents=True)
    instance = DagsterInstance.ephemeral()
    assert isinstance(adyen_settlements_inbox(build_sensor_context(instance=instance)), SkipReason)

    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_chargeback.csv", folder / "2026-11-03.csv")
    request = adyen_settlements_inbox(build_sensor_context(instance=instance))
    assert isinstance(request, RunRequest) and request.run_key

    result = defs.resolve_job_def("adyen_settlements_load").execute_in_process(instance=instance)
    assert result.success
    with connect(str(local_paths.duckdb_path())) as wh:
        rows = wh.fetchall("select record_type, count(*) from raw_adyen.settlement_details group by 1 order by 1")
    assert rows and sum(n for _, n in rows) > 0
    assert (folder / "processed" / "2026-11-03.csv").exists()
    assert isinstance(adyen_settlements_inbox(build_sensor_context(instance=instance)), SkipReason)

    # The same report dropped again is a duplicate: nothing more reaches the raw table.
    shutil.copy(ADYEN_REPORTS / "settlement_detail_report_chargeback.csv", folder / "resent.csv")
    assert defs.resolve_job_def("adyen_settlements_load").execute_in_process(instance=instance).success
    with connect(str(local_paths.duckdb_path())) as wh:
        assert wh.fetchall("select record_type, count(*) from raw_adyen.settlement_details group by 1 order by 1") == rows
    assert any(p.name.startswith("duplicate-") for p in (folder / "processed").iterdir())
