"""compose.yaml and the Dockerfile read as a container engine reads them, for the tests that
run their commands as plain processes: variables interpolated from an env file, services in
the order their dependencies start them, the image's environment. No tests here."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a $.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>))"
)


class MissingVariableError(Exception):
    """A `${NAME:?message}` whose variable is unset or empty: compose refuses to start."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines of an env file; comments and blank lines skipped."""
    variables = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    return variables


def variables_used(text: str) -> dict[str, str | None]:
    """Each variable `text` interpolates, with its default (None: none, or required)."""
    used: dict[str, str | None] = {}
    for match in _VARIABLE.finditer(text):
        assert match["bare"] is None, f"write ${{NAME}}, not a bare $, at {match.start()}"
        if match["name"]:
            default = match["arg"] if match["op"] in (":-", "-") else None
            used[match["name"]] = used.get(match["name"]) or default
    return used


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """`text` with its variables replaced as compose replaces them."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        value = variables.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and unset:
            raise MissingVariableError(name, arg)
        if op in (":-", "-") and unset:
            return str(arg)
        return value or ""

    return _VARIABLE.sub(replace, text)


def load(path: Path, variables: Mapping[str, str]) -> dict[str, Any]:
    """The compose file (YAML merge keys resolved), its variables interpolated in every
    value as compose does."""

    def resolved(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, variables)
        if isinstance(node, dict):
            return {key: resolved(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolved(value) for value in node]
        return node

    loaded: dict[str, Any] = resolved(yaml.safe_load(path.read_text(encoding="utf-8")))
    return loaded


def start_order(services: Mapping[str, Any]) -> list[str]:
    """The services `docker compose up` starts (none under a profile), each after what it
    depends on."""
    chosen = {name: service for name, service in services.items()
              if not service.get("profiles")}
    graph = {name: set(service.get("depends_on") or ()) for name, service in chosen.items()}
    return list(TopologicalSorter(graph).static_order())


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def final_stage(path: Path) -> list[tuple[str, str]]:
    """The instructions of the image's last stage (what runs)."""
    instructions = dockerfile_instructions(path)
    last = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last:]


def image_environment(path: Path) -> dict[str, str]:
    """The environment the image's ENV instructions set."""
    environment = {}
    for name, arguments in final_stage(path):
        if name == "ENV":
            for word in shlex.split(arguments):
                key, _, value = word.partition("=")
                environment[key] = value
    return environment
