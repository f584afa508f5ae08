"""The deployment files hold together without Docker or a cluster: docker/ (images, compose, instance,
workspace) and deploy/helm/values.yaml parse, name each other consistently, point at the code
location, keep Dagster's state in PostgreSQL and write no credential down. The parts that can run
here do: the image's `dbt parse` and the PostgreSQL init script."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import yaml
from dagster._core.instance.config import dagster_instance_config

from connectors.webhooks import receiver
from tests.deployment.deployment_files import (DOCKER, REPO_ROOT, compose, dockerfile, environment, helm_values,
                                               image_env, stage_command)

CODE_LOCATION_MODULE = "orchestration.definitions"
# A variable holding a credential, by its name (README, "Configuration").
SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY|HMAC)")


def test_compose_runs_postgres_user_code_webserver_and_daemon():
    services = compose()["services"]
    assert {"postgres", "user_code", "webserver", "daemon"} <= set(services)
    healthcheck = services["postgres"]["healthcheck"]
    assert "pg_isready" in " ".join(healthcheck["test"]) and healthcheck["retries"] > 0
    for name in ("user_code", "webserver", "daemon"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
    # The webserver and the daemon only start once the code location answers (the image's healthcheck).
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["user_code"] == {"condition": "service_healthy"}, name
    # Each process runs from its own target of the one Dockerfile, with that target's command.
    stages = {stage for stage, instruction, _ in dockerfile() if instruction == "FROM"}
    for name in ("user_code", "webserver", "daemon"):
        build = services[name]["build"]
        assert build["target"] in stages and (REPO_ROOT / "docker" / build["context"] / build["dockerfile"]).resolve() \
            == (DOCKER / "Dockerfile").resolve()
        assert services[name]["command"] == stage_command(build["target"]), name


def test_user_code_serves_the_code_location_the_webserver_and_daemon_load():
    services = compose()["services"]
    command = services["user_code"]["command"]
    assert command[:3] == ["dagster", "api", "grpc"]
    assert command[command.index("-m") + 1] == CODE_LOCATION_MODULE
    assert importlib.util.find_spec(CODE_LOCATION_MODULE) is not None
    # docker/workspace.yaml reaches that server by its compose service name and port.
    [location] = yaml.safe_load((DOCKER / "workspace.yaml").read_text())["load_from"]
    server = location["grpc_server"]
    assert server["host"] == "user_code" and server["port"] == int(command[command.index("-p") + 1])
    # the same location name as the root workspace.yaml, so runs and schedules keep their names
    [local] = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    assert local["python_module"]["module_name"] == CODE_LOCATION_MODULE
    assert server["location_name"] == local["python_module"]["location_name"]
    # The webserver and the daemon load that workspace file, which the image copies where they read it.
    copies = {arguments.split()[-1]: arguments.split()[0] for _, instruction, arguments in dockerfile()
              if instruction == "COPY"}
    for name in ("webserver", "daemon"):
        workspace = services[name]["command"][services[name]["command"].index("-w") + 1]
        assert copies[workspace] == "docker/workspace.yaml", name


def test_credentials_are_passed_through_never_written():
    services = compose()["services"]
    for name, service in services.items():
        for variable, value in environment(service).items():
            if SECRET_NAME.search(variable) and value is not None:
                # only an interpolation from the shell that runs compose, never a literal
                assert re.fullmatch(r"\$\{[A-Z_]+(:[-?][^}]*(\$\{[A-Z_]+\})?[^}]*)?\}", value), (name, variable)
    # Every variable the code location reads a credential or endpoint from reaches user_code.
    source = "\n".join(path.read_text() for path in (REPO_ROOT / "orchestration").rglob("*.py"))
    needed = set(re.findall(r'EnvVar\("([A-Z0-9_]+)"\)', source)) | set(re.findall(r'_endpoint\([^,]+, "([A-Z0-9_]+)"', source))
    assert {"SHOPIFY_ACCESS_TOKEN", "STRIPE_API_KEY", "ERP_BASE_URL", "STRIPE_BASE_URL"} <= needed
    assert needed <= set(environment(services["user_code"]))
    # and the webhook receiver gets its signing secrets
    assert {receiver.SHOPIFY_SECRET_ENV, receiver.STRIPE_SECRET_ENV, receiver.ADYEN_HMAC_KEY_ENV} <= set(
        environment(services["webhooks"]))


def test_dagster_yaml_keeps_runs_events_and_schedules_in_postgres_from_the_environment():
    config = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    database = config["storage"]["postgres"]["postgres_db"]
    from_env = {field: value["env"] for field, value in database.items() if isinstance(value, dict)}
    assert from_env == {"hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "username": "DAGSTER_PG_USERNAME",
                        "password": "DAGSTER_PG_PASSWORD", "db_name": "DAGSTER_PG_DB"}
    # every process that opens the instance is given those variables
    for name in ("user_code", "webserver", "daemon"):
        assert set(from_env.values()) <= set(environment(compose()["services"][name])), name
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_launcher"]["class"] == "DefaultRunLauncher"
    # The pool the warehouse writers share is limited (the code's pools come under default_limit).
    source = "\n".join(path.read_text() for path in (REPO_ROOT / "orchestration").rglob("*.py"))
    assert "warehouse_writer" in set(re.findall(r'pool="([a-z_]+)"', source))
    assert config["concurrency"]["pools"]["default_limit"] == 1
    # Dagster itself accepts the file as instance configuration (a typo in a key fails here).
    processed = dagster_instance_config(str(DOCKER), "dagster.yaml")[0]
    assert processed["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    # The image puts it where DAGSTER_HOME points.
    home = image_env()["DAGSTER_HOME"]
    assert any(instruction == "COPY" and arguments.split() == ["docker/dagster.yaml", "${DAGSTER_HOME}/dagster.yaml"]
               for _, instruction, arguments in dockerfile()) and home.startswith("/")


def test_dockerfile_installs_the_pinned_project_and_builds_the_dbt_manifest():
    instructions = [(instruction, arguments) for _, instruction, arguments in dockerfile()]
    runs = [arguments for instruction, arguments in instructions if instruction == "RUN"]
    assert "pip install -c constraints.txt ." in runs
    [parse] = [run for run in runs if run.startswith("dbt parse")]
    assert "--project-dir dbt_project" in parse and "--profiles-dir dbt_project" in parse
    # dbt parse runs after the project is copied in, and its manifest is where the code location reads it
    copied = [arguments.split()[0] for instruction, arguments in instructions if instruction == "COPY"]
    assert instructions.index(("RUN", parse)) > instructions.index(("COPY", "dbt_project ./dbt_project"))
    for source in copied:
        assert (REPO_ROOT / source).exists(), source
    # The copied checkout, not the site-packages copy, is imported: local_paths finds dbt_project/ beside it.
    workdir = [arguments for instruction, arguments in instructions if instruction == "WORKDIR"][-1]
    assert image_env()["PYTHONPATH"] == workdir
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    assert "dbt_project/target/" in ignore  # a laptop's stale manifest never enters the image


def test_the_image_dbt_parse_needs_no_warehouse(tmp_path):
    """The build step as the image runs it, for the image's default target, with no database anywhere."""
    [parse] = [arguments for _, instruction, arguments in dockerfile()
               if instruction == "RUN" and arguments.startswith("dbt parse")]
    [target] = [arguments.split("=", 1)[1] for _, instruction, arguments in dockerfile()
                if instruction == "ARG" and arguments.startswith("OMNIRECON_TARGET=")]
    command = shlex.split(parse.split("&&")[0].replace("${OMNIRECON_TARGET}", target))
    command[0] = str(Path(sys.executable).with_name("dbt"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMNIRECON_PG_")}
    env.update(OMNIRECON_PG_HOST="postgres.invalid", DBT_TARGET_PATH=str(tmp_path / "target"),
               DBT_LOG_PATH=str(tmp_path / "logs"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == target
    assert "model.omnirecon.posting_batches" in manifest["nodes"]


def test_postgres_init_script_creates_the_warehouse_database_once(postgres_server):
    name = f"omnirecon_wh_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "POSTGRES_USER": postgres_server["user"], "POSTGRES_DB": "postgres",
           "OMNIRECON_PG_DBNAME": name, "PGHOST": postgres_server["host"], "PGPORT": str(postgres_server["port"])}
    script = DOCKER / "postgres" / "create-warehouse-database.sh"
    admin = psycopg2.connect(host=postgres_server["host"], port=postgres_server["port"],
                             user=postgres_server["user"], dbname="postgres")
    admin.autocommit = True
    try:
        for _ in range(2):  # a second run (a re-initialised volume, a manual rerun) changes nothing
            subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True)
            with admin.cursor() as cur:
                cur.execute("select count(*) from pg_database where datname = %s", (name,))
                assert cur.fetchone() == (1,)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name}")
        admin.close()
    # compose mounts it where the postgres image runs init scripts
    volumes = compose()["services"]["postgres"]["volumes"]
    assert f"./postgres/{script.name}:/docker-entrypoint-initdb.d/10-{script.name}:ro" in volumes


def test_helm_values_launch_runs_on_kubernetes_from_the_user_code_image():
    values = helm_values()
    assert values["runLauncher"]["type"] == "K8sRunLauncher" and "k8sRunLauncher" in values["runLauncher"]["config"]
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", CODE_LOCATION_MODULE]
    assert deployment["image"]["repository"].endswith("omnirecon-user-code")
    # run pods get the code location's secrets and the shared landing zone
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    env = {item["name"]: item["value"] for item in deployment["env"]}
    [mount] = deployment["volumeMounts"]
    assert env["OMNIRECON_HOME"] == mount["mountPath"] and env["OMNIRECON_TARGET"] == "postgres"
    assert {"omnirecon-warehouse", "omnirecon-channel-credentials"} <= {s["name"] for s in deployment["envSecrets"]}
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    instance = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    assert values["concurrency"]["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]


def test_helm_values_name_secrets_and_hold_no_credential():
    values = helm_values()
    postgresql = values["postgresql"]
    assert postgresql["enabled"] is False and postgresql["postgresqlHost"]
    assert postgresql["postgresqlScheme"] == "postgresql+psycopg2"
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]

    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    assert not [key for key in keys(values) if re.search(r"password|token|secret$|apikey", key, re.IGNORECASE)
                and key not in ("postgresqlSecretName", "generatePostgresqlPasswordSecret")]
