"""The Dagster UI in a real browser, on a sandbox day materialized the way `make demo` does.

The asset graph shows omnirecon's groups, finance's exception queue shows the auto-match rate of each
provider (the warehouse's own figures), and marts/posting_batches shows the posting gate's result (the
warehouse's own batch counts) among its checks. Drives the system's Chromium (`apt-get install chromium`):
playwright downloads no browser here.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from dagster import AssetKey
from playwright.sync_api import Page, expect, sync_playwright

from connectors.warehouse import connect
from orchestration.exception_queue import match_rate_by_provider

REPO_ROOT = Path(__file__).resolve().parents[2]
# Waits for the UI to render what it fetched: generous, as CI machines run many tests beside this one.
UI_WAIT_MS = 60_000
WEBSERVER_START_SECONDS = 180
# Variables that would point the demo or the webserver away from the test's own home.
FOREIGN_PATHS = ("DAGSTER_HOME", "OMNIRECON_DUCKDB_PATH", "OMNIRECON_LANDING_ROOT", "OMNIRECON_EXPORT_ROOT",
                 "OMNIRECON_INBOX", "OMNIRECON_TARGET")
LOCATION_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"
POSTING_BATCHES = AssetKey(["marts", "posting_batches"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _home_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_PATHS}
    return {**env, "OMNIRECON_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    """One sandbox day through the whole pipeline (`omnirecon demo --days 1`), runs kept in the home's
    Dagster instance for the webserver to show."""
    home = tmp_path_factory.mktemp("ui") / "omnirecon"
    demo = subprocess.run([sys.executable, "-m", "orchestration.cli", "demo", "--days", "1"], cwd=REPO_ROOT,
                          env=_home_env(home), capture_output=True, text=True)
    assert demo.returncode == 0, f"omnirecon demo failed:\n{demo.stdout[-4000:]}\n{demo.stderr[-4000:]}"
    return home


@pytest.fixture(scope="module")
def webserver(demo_home, tmp_path_factory):
    """dagster-webserver on a free loopback port, on the root workspace.yaml and the demo's instance. No
    daemon: the schedules stay still, so the pages show exactly what the demo materialized."""
    port = _free_port()
    log = tmp_path_factory.mktemp("webserver") / "dagster-webserver.log"
    with open(log, "w") as output:
        process = subprocess.Popen([str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1",
                                    "-p", str(port), "-w", str(REPO_ROOT / "workspace.yaml")],
                                   cwd=REPO_ROOT, env=_home_env(demo_home), stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_location(process, base_url, log)
        # A new instance greets a loopback visitor with a newsletter dialog over the page: mark it seen,
        # as clicking "Skip" once does.
        requests.post(f"{base_url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30).raise_for_status()
        yield base_url
    finally:
        _stop_group(process)


def _wait_for_location(process: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + WEBSERVER_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            answer = requests.post(f"{base_url}/graphql", json={"query": LOCATION_QUERY}, timeout=10).json()
            entries = answer["data"]["workspaceOrError"]["locationEntries"]
            loaded = entries[0]["locationOrLoadError"] if entries else None
            if loaded:
                assert loaded["__typename"] == "RepositoryLocation", f"omnirecon did not load:\n{log.read_text()[-4000:]}"
                return
        except (requests.ConnectionError, requests.Timeout, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver never served the omnirecon location:\n{log.read_text()[-4000:]}")


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the webserver's group (it and its code server), then SIGKILL for whatever outlived it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: the UI test drives the system's Chromium and playwright downloads "
                    "no browser. Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, webserver):
    context = browser.new_context(base_url=webserver, viewport={"width": 1600, "height": 1200})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def definitions():
    from orchestration.definitions import defs

    return defs


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / f"{name}.png")


def test_asset_graph_shows_every_group_of_omnirecon(page, definitions, tmp_path):
    groups = {spec.group_name for spec in definitions.resolve_all_asset_specs()}
    assert {"canonical", "finance", "inventory", "posting", "configuration", "ingestion_shopify"} <= groups

    page.goto("/asset-groups")
    for group in sorted(groups):
        # the group's box in the graph itself, not its line in the sidebar
        node = page.locator("foreignObject.group").filter(has=page.get_by_text(group, exact=True))
        expect(node, f"group {group} in the asset graph").to_be_visible(timeout=UI_WAIT_MS)
    expect(page.locator("foreignObject.group")).to_have_count(len(groups))
    # each box says "N assets (fetching statuses)" until the demo's materializations are in
    expect(page.get_by_text("fetching statuses")).to_have_count(0, timeout=UI_WAIT_MS)
    _screenshot(page, tmp_path, "asset-graph")


def test_exception_queue_shows_the_auto_match_rate_of_each_provider(page, demo_home, tmp_path):
    with connect(str(demo_home / "warehouse.duckdb")) as warehouse:
        expected = {provider: f"{rate:.2%}" for provider, _, _, rate, _ in match_rate_by_provider(warehouse)}
    assert {"adyen", "amazon"} <= set(expected)

    page.goto("/assets/finance/exception_queue")
    # the latest materialization's metadata entry, and the markdown table it holds
    entry = page.locator("tr").filter(has=page.get_by_text("auto_match_rate_by_provider", exact=True))
    table = entry.locator(".dagster-markdown table")
    expect(table.locator("thead th")).to_have_text(
        ["provider", "matchable lines", "matched", "auto-match rate", "unmatched amount"], timeout=UI_WAIT_MS)
    rows = [row.locator("td").all_text_contents() for row in table.locator("tbody tr").all()]
    shown = {cells[0]: cells[3] for cells in rows}
    assert shown == expected
    assert all(re.fullmatch(r"\d{1,3}\.\d{2}%", rate) for rate in shown.values()), shown
    entry.scroll_into_view_if_needed()
    _screenshot(page, tmp_path, "exception-queue")


def test_posting_batches_show_the_posting_gate_among_their_checks(page, demo_home, definitions, tmp_path):
    with connect(str(demo_home / "warehouse.duckdb")) as warehouse:
        by_status = dict(warehouse.fetchall("select status, count(*) from marts.posting_batches group by status"))
    assert by_status.get("ready", 0) > 0, by_status
    checks = sorted(key.name for key in definitions.resolve_asset_graph().asset_check_keys
                    if key.asset_key == POSTING_BATCHES)
    assert "posting_batches_balance" in checks

    # the UI's own link to one check: the asset's checks tab with that check opened
    page.goto("/assets/marts/posting_batches?view=checks&checkDetail=posting_batches_balance")
    expect(page.get_by_text(f"Checks ({len(checks)})", exact=True)).to_be_visible(timeout=UI_WAIT_MS)
    for check in checks:  # the gate and the dbt tests on the model, each by its full name
        expect(page.locator(f'[title="{check}"]'), f"check {check}").to_be_visible(timeout=UI_WAIT_MS)
    # the gate's line in the list: its name and the status of its latest execution
    listed = page.locator("span").filter(has=page.locator('[title="posting_batches_balance"]'))
    expect(listed).to_contain_text("Succeeded", timeout=UI_WAIT_MS)
    expect(page.get_by_text("This is a blocking asset check.")).to_be_visible(timeout=UI_WAIT_MS)
    expect(page.get_by_text(f"{by_status['ready']} batches ready, {by_status.get('blocked', 0)} held with their "
                            "reasons.", exact=True)).to_be_visible(timeout=UI_WAIT_MS)
    expect(page.get_by_text("Passed", exact=True)).to_be_visible(timeout=UI_WAIT_MS)
    _screenshot(page, tmp_path, "posting-batches-checks")
