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
