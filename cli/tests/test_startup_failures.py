"""`crm run` on a busy port, and a broker or service that dies at start-up: exit code, message,
and nothing left running. Real processes (the `crm` command, Tansu, uvicorn) with deadlines."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_cli import broker as broker_module
from crm_cli import stack as stack_module
from crm_cli.broker import free_port, start_broker
from crm_cli.ports import bind_error
from crm_cli.stack import Stack, StackConfig, run
from crm_cli.startup import Interrupted, ProcessLog, StartupFailed


def crm_run(data_dir: Path, base_port: int, broker_port: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_DATA_DIR=str(data_dir), CRM_BASE_PORT=str(base_port), CRM_BROKER_PORT=str(broker_port))
    return subprocess.run([sys.executable, "-m", "crm_cli.main", "run"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_crm_run_on_a_taken_service_port_names_it_and_starts_nothing(tmp_path: Path, taken_port: int) -> None:
    # The taken port is the base port + 2, i.e. the points service's.
    result = crm_run(tmp_path / "data", taken_port - 2, free_port())
    assert result.returncode == 1
    assert (f"error: port {taken_port} (points) is already in use; set CRM_BASE_PORT to move the services"
            in result.stderr.splitlines())
    assert "nothing was started" in result.stderr
    assert not (tmp_path / "data").exists()  # not even the log directory


def test_crm_run_on_a_taken_broker_port_names_it_and_starts_nothing(tmp_path: Path, taken_port: int) -> None:
    base = free_port()
    result = crm_run(tmp_path / "data", base, taken_port)
    assert result.returncode == 1
    assert (f"error: port {taken_port} (the broker) is already in use; set CRM_BROKER_PORT to move it"
            in result.stderr.splitlines())
    assert not (tmp_path / "data").exists()


@pytest.mark.kafka
def test_a_broker_that_exits_on_a_port_taken_after_the_check_is_reported_with_its_log(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Someone takes the port between the check and Tansu's bind: Tansu panics and exits 0 while the
    # other program answers the connect check. That must not pass for a running broker.
    monkeypatch.setattr(broker_module, "bind_error", lambda port, host: None)
    log_path = tmp_path / "logs" / "broker.log"
    with pytest.raises(StartupFailed) as caught:
        start_broker(taken_port, log_path, timeout=15)
    message = str(caught.value)
    assert message.startswith("the broker (Tansu) failed to start: exited with code ")
    assert "AddrInUse" in message  # the panic's own reason, read from this run's part of the log
    assert message.endswith(f"; see {log_path}")


def test_a_broker_on_a_taken_port_is_refused_before_it_is_started(tmp_path: Path, taken_port: int) -> None:
    with pytest.raises(StartupFailed, match=rf"the broker \(Tansu\) failed to start: port {taken_port} "
                                            "is already in use"):
        start_broker(taken_port, tmp_path / "broker.log")
    assert not (tmp_path / "broker.log").exists()


@pytest.mark.kafka
def test_a_service_that_dies_at_start_up_is_named_with_its_log_and_the_rest_is_stopped(tmp_path: Path) -> None:
    # A database in a directory that does not exist: the points service fails in its start-up.
    config = StackConfig.on_free_ports(
        tmp_path / "data", ("points",),
        database_urls={"points": f"sqlite+aiosqlite:///{tmp_path}/missing/points.db"},
    )
    stack = Stack(config)
    try:
        stack.start()
        with pytest.raises(StartupFailed) as caught:
            stack.wait_ready(timeout=60)
    finally:
        procs = list(stack.procs.values())
        stack.stop()
    message = str(caught.value)
    assert message.startswith("the points service failed to start: exited with code ")
    assert message.endswith(f"; see {config.data_dir / 'logs' / 'points.log'}")
    assert all(proc.poll() is not None for proc in procs)
    assert bind_error(config.broker_port) is None  # the broker it started is gone as well


def test_only_this_runs_part_of_a_log_is_searched_for_the_error(tmp_path: Path) -> None:
    path = tmp_path / "broker.log"
    path.write_text("ERROR an old failure from yesterday\n")
    log = ProcessLog(path)
    assert log.last_error() is None
    with log.open() as out:
        out.write(b"\x1b[31mERROR\x1b[0m bind failed\nnote: run with RUST_BACKTRACE=1\n")
    assert log.last_error() == "ERROR bind failed"


def free_base_port() -> int:
    """A base port whose services' ports (base+1 to base+5) are free too, below the range the
    system hands out for outgoing connections: a base taken from that range had its members port
    (base+1) taken by another test's connection now and then, and `crm run` refused to start."""
    rng = random.Random()
    while True:
        base = rng.randrange(20000, 30000)
        if all(_bindable(port) for port in range(base, base + 6)):
            return base


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`run()` in this process, on free ports and a data directory of the test's; the signal
    handlers it installs are this process's, put back afterwards whatever it does."""
    for key in [k for k in os.environ if k.startswith("CRM_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRM_BASE_PORT", str(free_base_port()))
    monkeypatch.setenv("CRM_BROKER_PORT", str(free_port()))
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield tmp_path / "data"
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def test_crm_run_with_a_setting_the_services_refuse_says_so_in_one_line_and_exits_1(
    launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_TIMEZONE", "Asia/Shangai")
    assert run(demo=False) == 1
    err = capsys.readouterr().err
    assert err == ("error: CRM_BUSINESS_TIMEZONE: 'Asia/Shangai' is not a time zone of the IANA database, "
                   "e.g. Asia/Shanghai\n")
    assert not (launcher / "logs" / "broker.log").exists()  # nothing was started


def test_crm_run_whose_demo_cannot_be_loaded_says_so_in_one_line_and_exits_1(
    launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # A platform that started, whose gateway then does not answer the demo's first request.
    monkeypatch.setattr(stack_module, "enroll_service_clients", lambda config: None)
    monkeypatch.setattr(Stack, "start", lambda self: None)
    monkeypatch.setattr(Stack, "wait_ready", lambda self, timeout=90.0, stopping=None: None)
    assert run(demo=True) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: loading the demo data: ConnectError: ")
    assert err.endswith(f"; the services' logs are in {launcher / 'logs'}\n") and err.count("\n") == 1
    assert out.endswith("stopped\n")


def test_ctrl_c_while_starting_stops_what_was_started_and_exits_130(
    launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(stack_module, "enroll_service_clients", lambda config: None)
    started: list[subprocess.Popen] = []

    def start(self: Stack) -> None:
        # The terminal's Ctrl-C reaches the children as well: the broker ends at once (Tansu
        # exits 0), a service is still going.
        self.procs["broker"] = subprocess.Popen([sys.executable, "-c", "pass"])
        self.procs["broker"].wait()
        self.procs["members"] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.extend(self.procs.values())
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Stack, "start", start)
    assert run(demo=False) == 130
    out, err = capsys.readouterr()
    assert out.endswith("\ninterrupted\nstopped\n") and err == ""
    assert all(proc.poll() is not None for proc in started)


def test_waiting_for_the_services_ends_when_a_stop_is_asked_for(tmp_path: Path) -> None:
    # A service that never gets ready: no need to wait for the deadline once the operator stops.
    stack = Stack(StackConfig.on_free_ports(tmp_path / "data", ("members",)))
    stack.procs["members"] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    asked = time.monotonic() + 1.0
    try:
        with pytest.raises(Interrupted):
            stack.wait_ready(timeout=60, stopping=lambda: time.monotonic() > asked)
        assert time.monotonic() < asked + 5
    finally:
        stack.stop()
