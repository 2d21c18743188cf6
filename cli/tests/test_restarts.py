"""`crm run` starts a service that exits while the platform runs again alone, with a growing wait,
and stops the platform when one keeps exiting or the broker exits. Stand-in processes drive the
rule with a clock of the test's; one real service is killed and comes back ready."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crm_cli.stack import RESTARTS_IN_WINDOW, Stack, StackConfig
from crm_cli.startup import ProcessLog

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def exited(code: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({code})"])
    proc.wait()
    return proc


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    stack = Stack(StackConfig.on_free_ports(tmp_path / "data", ("points",)))
    stack._process_logs["points"] = ProcessLog(stack.log_path("points"))
    started: list[subprocess.Popen] = []

    def start_service(self: Stack, service: str) -> subprocess.Popen:
        started.append(subprocess.Popen(SLEEPER))
        return started[-1]

    monkeypatch.setattr(Stack, "_start_service", start_service)
    stack.procs["broker"] = subprocess.Popen(SLEEPER)
    stack.procs["points"] = exited(3)
    try:
        yield stack
    finally:
        stack.stop()
        for proc in started:
            proc.kill()
            proc.wait()


def test_a_service_that_exits_is_started_again_after_a_wait_that_grows_with_its_restarts(stack: Stack) -> None:
    [seen] = stack.revive(now=100.0)
    assert seen.startswith("points exited with code 3; see ") and seen.endswith("starting it again in 1s")
    assert stack.revive(now=100.5) == []  # still waiting
    assert stack.revive(now=101.0) == ["points started again (1 of 5 restarts allowed in 10 minutes)"]
    assert stack.procs["points"].poll() is None
    stack.procs["points"].kill()
    stack.procs["points"].wait()
    assert stack.revive(now=110.0)[0].endswith("starting it again in 2s")
    assert stack.revive(now=111.9) == []
    assert stack.revive(now=112.0) == ["points started again (2 of 5 restarts allowed in 10 minutes)"]


def test_a_service_that_keeps_exiting_stops_the_platform_naming_it_and_its_log(stack: Stack) -> None:
    now = 0.0
    for _ in range(RESTARTS_IN_WINDOW):
        stack.revive(now=now)
        now += 60.0
        assert stack.revive(now=now)[-1].startswith("points started again")
        stack.procs["points"] = exited(1)
    with pytest.raises(RuntimeError, match=r"^points exited with code 1, after 5 restarts in 10 minutes; see .*points\.log$"):
        stack.revive(now=now)


def test_restarts_older_than_the_window_are_forgotten(stack: Stack) -> None:
    now = 0.0
    for _ in range(RESTARTS_IN_WINDOW):
        stack.revive(now=now)
        now += 60.0
        stack.revive(now=now)
        stack.procs["points"] = exited(1)
    # Ten minutes after the first of them (at 60 s), four are left in the window: a fifth is allowed.
    now = 660.5
    assert stack.revive(now=now)[0].endswith("starting it again in 16s")
    assert stack.revive(now=now + 16)[0] == "points started again (5 of 5 restarts allowed in 10 minutes)"


def test_a_broker_that_exits_stops_the_platform(stack: Stack) -> None:
    stack.procs["points"] = subprocess.Popen(SLEEPER)
    stack.procs["broker"].kill()
    stack.procs["broker"].wait()
    with pytest.raises(RuntimeError, match=r"^the broker \(Tansu\) exited with code -9; see .*broker\.log$"):
        stack.revive(now=0.0)


@pytest.mark.kafka
def test_a_service_killed_while_the_platform_runs_comes_back_ready(tmp_path: Path) -> None:
    stack = Stack(StackConfig.on_free_ports(tmp_path / "data", ("points",)))
    try:
        stack.start()
        stack.wait_ready(timeout=60)
        os.kill(stack.procs["points"].pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        said: list[str] = []
        ready = False
        while not ready and time.monotonic() < deadline:
            said += stack.revive()
            try:
                ready = httpx.get(f"{stack.config.url('points')}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                ready = False
            time.sleep(0.2)
        assert said[0].startswith("points exited with code -9") and said[1].startswith("points started again")
        assert ready
    finally:
        stack.stop()
