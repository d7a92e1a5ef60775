"""The deployment kit cannot rot silently: every systemd unit runs a `haven` command line that
parses, covers a part of `haven up`'s process table, and is hardened; and `haven check
--deploy` passes with deploy/haven.env.example's settings plus real keys."""

from __future__ import annotations

import configparser
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class

from haven.runtime.parts import Addresses, process_table
from tests.runtime.processes import SRC, haven

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/haven",
    "Restart": "on-failure",
    "EnvironmentFile": "/etc/haven/haven.env",
    "User": "haven",
}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_there_is_a_unit_for_every_part_of_haven_up() -> None:
    parts = {f"haven-{part.name}.service" for part in process_table(Addresses(), with_mqtt=True)}
    assert {path.name for path in UNITS} == parts
    wanted = unit(DEPLOY / "systemd" / "haven.target")["Unit"]["Wants"].split()
    assert sorted(wanted) == sorted(parts)


@pytest.mark.parametrize("path", UNITS, ids=[path.stem for path in UNITS])
def test_each_unit_runs_a_haven_command_that_exists_and_is_hardened(
    path: Path, settings: Any
) -> None:
    # As deployed: jobs go to the database queue (the suite runs them in-line).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    service = unit(path)["Service"]
    program, command, *arguments = shlex.split(service["ExecStart"])

    assert program == "/opt/haven/venv/bin/haven"
    assert command in get_commands(), f"{path.name}: `haven {command}` does not exist"
    parser = load_command_class(get_commands()[command], command).create_parser("haven", command)
    parser.parse_args(arguments)  # raises CommandError on an unknown option or subcommand
    for option, value in HARDENING.items():
        assert service.get(option) == value, f"{path.name}: {option}"


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "haven.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line)]
    return {name: value for name, value in pairs}


def check_deploy(data_dir: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    from tests.runtime.processes import haven_environment

    example = env_example()
    example.pop("HAVEN_DATABASE_URL")  # this test has no PostgreSQL server of its own
    example.update(
        HAVEN_SECRET_KEY=secrets.token_urlsafe(64), HAVEN_DATA_DIR=str(data_dir), **overrides
    )
    environment = haven_environment(data_dir, **example)
    for development_only in ("HAVEN_DEBUG", "HAVEN_DEMO"):
        if development_only not in overrides:
            environment.pop(development_only)
    return subprocess.run(  # noqa: S603 - the test's own command line
        [sys.executable, "-m", "haven.cli", "check", "--deploy"],
        env={**environment, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def keyed_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("haven-deploy")
    haven(data_dir, "keys", "init")
    haven(data_dir, "audit", "init-key")
    return data_dir


def test_check_deploy_passes_with_the_example_settings_and_real_keys(keyed_data_dir: Path) -> None:
    result = check_deploy(keyed_data_dir)
    assert result.returncode == 0, result.stderr
    assert "haven.deploy.W001" in result.stderr + result.stdout  # SQLite, said plainly


def test_check_deploy_refuses_debug_on(keyed_data_dir: Path) -> None:
    result = check_deploy(keyed_data_dir, HAVEN_DEBUG="1")
    assert result.returncode != 0
    assert "haven.deploy.E001" in result.stderr
