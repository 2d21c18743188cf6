"""The launcher's port check: which ports `crm run` binds, and how a taken one is reported."""

import socket
from pathlib import Path

import pytest

from crm_cli.broker import free_port, free_ports
from crm_cli.ports import PortsUnavailable, PortUse, bind_error, check_ports
from crm_cli.stack import StackConfig


def test_a_free_port_passes() -> None:
    port = free_port()
    assert bind_error(port) is None
    check_ports([PortUse(port, "points", "CRM_BASE_PORT")])


def test_a_listening_port_is_named_with_its_purpose_and_the_setting_that_moves_it(taken_port: int) -> None:
    uses = [PortUse(free_port(), "gateway", "CRM_BASE_PORT"), PortUse(taken_port, "points", "CRM_BASE_PORT")]
    with pytest.raises(PortsUnavailable) as caught:
        check_ports(uses)
    assert caught.value.problems == [
        f"port {taken_port} (points) is already in use; set CRM_BASE_PORT to move the services"
    ]


def test_a_taken_broker_port_points_at_the_broker_setting(taken_port: int) -> None:
    with pytest.raises(PortsUnavailable, match=rf"port {taken_port} \(the broker\) is already in use; "
                                               "set CRM_BROKER_PORT to move it"):
        check_ports([PortUse(taken_port, "the broker", "CRM_BROKER_PORT")])


def test_every_taken_port_is_listed_not_only_the_first(taken_port: int) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        second = other.getsockname()[1]
        with pytest.raises(PortsUnavailable) as caught:
            check_ports([PortUse(taken_port, "members", "CRM_BASE_PORT"),
                         PortUse(second, "the broker", "CRM_BROKER_PORT")])
    assert [p.split(" (")[0] for p in caught.value.problems] == [f"port {taken_port}", f"port {second}"]


def test_a_port_meant_for_two_things_is_refused_before_anything_binds_it() -> None:
    port = free_port()
    with pytest.raises(PortsUnavailable, match=rf"port {port} is meant for both points and the broker"):
        check_ports([PortUse(port, "points", "CRM_BASE_PORT"), PortUse(port, "the broker", "CRM_BROKER_PORT")])


def test_two_services_given_one_port_name_their_setting_once() -> None:
    port = free_port()
    with pytest.raises(PortsUnavailable) as caught:
        check_ports([PortUse(port, "members", "CRM_BASE_PORT"), PortUse(port, "gateway", "CRM_BASE_PORT")])
    assert caught.value.problems == [f"port {port} is meant for both members and gateway; set CRM_BASE_PORT so they differ"]


def test_ports_chosen_together_differ_and_are_free() -> None:
    ports = free_ports(64)
    assert len(set(ports)) == 64
    assert all(bind_error(port) is None for port in ports)


def test_a_port_out_of_range_is_refused() -> None:
    with pytest.raises(PortsUnavailable, match=r"port 65536 \(feedback\) is not a valid port; check CRM_BASE_PORT"):
        check_ports([PortUse(65536, "feedback", "CRM_BASE_PORT")])


def test_a_port_left_in_time_wait_by_a_previous_run_counts_as_free() -> None:
    # The server side closes first, as a stopped service does, which leaves TIME_WAIT on its port.
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()
    client.close()
    assert bind_error(port) is None


def test_crm_run_binds_the_base_port_and_the_next_four_and_the_broker_port() -> None:
    config = StackConfig(Path("/tmp/unused"), base_port=8000, broker_port=9092)
    assert {(u.port, u.purpose, u.setting) for u in config.port_uses()} == {
        (8000, "gateway", "CRM_BASE_PORT"), (8001, "members", "CRM_BASE_PORT"), (8002, "points", "CRM_BASE_PORT"),
        (8003, "campaigns", "CRM_BASE_PORT"), (8004, "feedback", "CRM_BASE_PORT"),
        (9092, "the broker", "CRM_BROKER_PORT"),
    }


def test_a_stack_of_some_services_on_chosen_ports_checks_only_those() -> None:
    config = StackConfig(Path("/tmp/unused"), broker_port=9100, services=("gateway", "points"),
                         ports={"gateway": 9200, "points": 9201})
    assert [(u.port, u.purpose) for u in config.port_uses()] == [(9201, "points"), (9200, "gateway"),
                                                                  (9100, "the broker")]


def test_a_port_setting_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_BASE_PORT", "80OO")
    with pytest.raises(ValueError, match="CRM_BASE_PORT='80OO' is not a port number"):
        StackConfig.from_env()


def test_links_point_at_the_gateway_of_the_stack_wherever_the_base_port_puts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_PUBLIC_URL", raising=False)
    config = StackConfig(Path("/tmp/unused"), base_port=18000)
    assert {config.service_env(s)["CRM_PUBLIC_URL"] for s in ("feedback", "campaigns", "gateway")} == {"http://127.0.0.1:18000"}
    monkeypatch.setenv("CRM_PUBLIC_URL", "https://crm-demo.example.cn")
    assert config.service_env("feedback")["CRM_PUBLIC_URL"] == "https://crm-demo.example.cn"
