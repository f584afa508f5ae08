"""Reading the deployment files the way Docker and Compose read them, for the tests beside this module."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER = REPO_ROOT / "docker"
HELM_VALUES = REPO_ROOT / "deploy" / "helm" / "values.yaml"


def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def environment(service: dict) -> dict[str, str | None]:
    """A service's environment entries: NAME=value, or NAME alone (passed through from the shell: None)."""
    entries = service.get("environment", [])
    assert isinstance(entries, list), "environment is a list, so that a bare NAME passes a variable through"
    return {entry.partition("=")[0]: (entry.partition("=")[2] if "=" in entry else None) for entry in entries}


def dockerfile() -> list[tuple[str, str, str]]:
    """(stage, INSTRUCTION, arguments) for each instruction of docker/Dockerfile, continuations joined."""
    lines = [line for line in (DOCKER / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    stage, instructions = "", []
    for line in filter(None, map(str.strip, text.splitlines())):
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stage = arguments.split(" AS ")[-1].strip()
        instructions.append((stage, instruction.upper(), arguments.strip()))
    return instructions


def stage_command(stage: str, instruction: str = "CMD") -> list[str]:
    """A stage's CMD (or its HEALTHCHECK's CMD), in exec form."""
    [arguments] = [arguments for s, i, arguments in dockerfile() if s == stage and i == instruction]
    return json.loads(arguments.split("CMD ", 1)[1] if instruction == "HEALTHCHECK" else arguments)


def image_env() -> dict[str, str]:
    env = {}
    for _, instruction, arguments in dockerfile():
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def helm_values() -> dict:
    return yaml.safe_load(HELM_VALUES.read_text())
