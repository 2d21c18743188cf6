"""The environment `crm run` gives each service process."""

from pathlib import Path

import pytest

from crm_cli.stack import SERVICES, StackConfig, service_environment


def test_a_service_gets_two_malloc_arenas_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert service_environment("members", tmp_path, "127.0.0.1:9092", {})["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert service_environment("members", tmp_path, "127.0.0.1:9092", {})["MALLOC_ARENA_MAX"] == "4"


def test_the_launchers_own_settings_stay_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_BASE_PORT", "18000")
    env = service_environment("points", tmp_path, "127.0.0.1:19092", {"members": "http://127.0.0.1:18001"})
    assert "CRM_BASE_PORT" not in env
    assert (env["CRM_SERVICE_NAME"], env["CRM_KAFKA_BOOTSTRAP"], env["CRM_MEMBERS_URL"]) == (
        "points", "127.0.0.1:19092", "http://127.0.0.1:18001")


def test_the_chains_time_zone_reaches_every_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_BUSINESS_TIMEZONE", "Asia/Urumqi")
    config = StackConfig(tmp_path / "data")
    assert {config.service_env(s)["CRM_BUSINESS_TIMEZONE"] for s in SERVICES} == {"Asia/Urumqi"}


def test_a_service_s_own_settings_exported_in_the_shell_reach_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # As the services' READMEs list them: `CRM_VIP_THRESHOLD=3000 crm run` is a members setting.
    monkeypatch.setenv("CRM_VIP_THRESHOLD", "3000.00")
    monkeypatch.setenv("CRM_MAX_BODY_BYTES", "2097152")  # a setting of every service
    config = StackConfig(tmp_path / "data")
    assert config.service_env("members")["CRM_VIP_THRESHOLD"] == "3000.00"
    assert "CRM_VIP_THRESHOLD" not in config.service_env("points")  # not a points setting
    assert {config.service_env(s)["CRM_MAX_BODY_BYTES"] for s in SERVICES} == {"2097152"}


def test_the_settings_the_launcher_gives_each_service_are_not_taken_from_the_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # One exported database would be all five services' database; another broker not the one started.
    monkeypatch.setenv("CRM_DATABASE_URL", "sqlite+aiosqlite:////tmp/shared.db")
    monkeypatch.setenv("CRM_KAFKA_BOOTSTRAP", "kafka.example.cn:9093")
    monkeypatch.setenv("CRM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CRM_ENVIRONMENT", "production")
    monkeypatch.setenv("CRM_POINTS_URL", "http://points.example.cn")
    config = StackConfig(tmp_path / "data", broker_port=19092)
    env = config.service_env("gateway")
    assert "CRM_DATABASE_URL" not in env and "CRM_KAFKA_SECURITY_PROTOCOL" not in env
    assert (env["CRM_KAFKA_BOOTSTRAP"], env["CRM_ENVIRONMENT"], env["CRM_POINTS_URL"]) == (
        "127.0.0.1:19092", "development", config.url("points"))


def test_a_stack_that_takes_nothing_from_the_shell_gets_no_settings_from_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("CRM_VIP_THRESHOLD", "3000.00")
    assert "CRM_VIP_THRESHOLD" not in StackConfig(tmp_path / "data", passthrough=()).service_env("members")
