"""`omnirecon dev` (what `make dev` runs): the sandbox API and the Dagster webserver come up, with our graph."""
import os
import signal
import socket
import subprocess
import sys
import time

import requests

QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name
              locationOrLoadError { __typename ... on PythonError { message } } } } }
            assetNodes { assetKey { path } } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dev_serves_the_dagster_ui_with_the_omnirecon_location(omnirecon_home):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "dev", "--port", str(port), "--days", "1"],
                               env={**os.environ, "OMNIRECON_HOME": str(omnirecon_home)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        answer = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=10).json()
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]:
                    break
            except (requests.ConnectionError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        assert answer is not None, "the Dagster webserver never answered"
        location = answer["data"]["workspaceOrError"]["locationEntries"][0]
        assert location["name"] == "omnirecon"
        assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location
        keys = {"/".join(node["assetKey"]["path"]) for node in answer["data"]["assetNodes"]}
        assert {"landing/shopify", "marts/settlement_matches", "outbound/erp_posting_export"} <= keys
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C, as a person would: dagster dev then stops its webserver, daemon and code servers."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group outlived it
    except ProcessLookupError:
        pass
