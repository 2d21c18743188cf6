"""`crm run`: the broker, every service and the gateway on one machine, on SQLite files.

Each service is its own process with its own environment, exactly as in docker-compose; the
launcher only picks ports, points every process at the same broker and data directory, waits until
all report ready, and stops them all (gateway first, broker last) on Ctrl-C.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from crm_cli.broker import start_broker
from shared.auth import Role, TokenIssuer, ensure_dev_keypair

# Port offsets from CRM_BASE_PORT; the gateway takes the base port itself.
SERVICES = {"members": 1, "points": 2, "campaigns": 3, "feedback": 4, "gateway": 0}


@dataclass
class StackConfig:
    data_dir: Path
    base_port: int
    broker_port: int
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls) -> "StackConfig":
        return cls(
            data_dir=Path(os.environ.get("CRM_DATA_DIR", ".crm-data")).resolve(),
            base_port=int(os.environ.get("CRM_BASE_PORT", "8000")),
            broker_port=int(os.environ.get("CRM_BROKER_PORT", "9092")),
        )

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.base_port + SERVICES[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        env = service_environment(
            service, self.data_dir, f"{self.host}:{self.broker_port}",
            {name: self.url(name) for name in SERVICES if name != "gateway"},
        )
        # Pass through deliberate overrides (log level, secrets), not the launcher's own knobs.
        for key in ("CRM_LOG_LEVEL", "CRM_IDENTITY_PEPPER", "CRM_JWT_PUBLIC_KEY"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env


def service_environment(service: str, data_dir: Path, bootstrap: str, urls: dict[str, str]) -> dict[str, str]:
    """The environment of one service process on a bare machine: this process's environment
    without its CRM_* knobs, plus where the data, the broker and the other services are."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_SERVICE_NAME=service,
        CRM_ENVIRONMENT="development",
        CRM_DATA_DIR=str(data_dir),
        CRM_KAFKA_BOOTSTRAP=bootstrap,
        CRM_LOG_JSON="true",
        **{f"CRM_{name.upper()}_URL": url for name, url in urls.items()},
    )
    return env


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = config.data_dir / "logs"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        ensure_dev_keypair(self.config.data_dir / "keys")
        self.procs["broker"] = start_broker(self.config.broker_port, self.logs / "broker.log", self.config.host)
        for service, offset in SERVICES.items():
            self.procs[service] = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", f"{service}.main:create_app", "--factory",
                    "--host", self.config.host, "--port", str(self.config.base_port + offset), "--no-access-log",
                ],
                env=self.config.service_env(service),
                stdout=open(self.logs / f"{service}.log", "ab"),
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(SERVICES)
        with httpx.Client(timeout=2.0) as client:
            while pending and time.monotonic() < deadline:
                self.check_alive()
                for service in sorted(pending):
                    try:
                        if client.get(f"{self.config.url(service)}/health/ready").status_code == 200:
                            pending.discard(service)
                    except httpx.HTTPError:
                        pass
                time.sleep(0.3)
        if pending:
            raise TimeoutError(f"not ready after {timeout}s: {', '.join(sorted(pending))} (see {self.logs})")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {self.logs / (name + '.log')}")

    def stop(self) -> None:
        # Gateway first so no new work arrives, the broker last so the services can flush.
        for name in ["gateway", *[s for s in SERVICES if s != "gateway"], "broker"]:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()


def dev_tokens(data_dir: Path) -> dict[str, str]:
    private, _ = ensure_dev_keypair(data_dir / "keys")
    issuer = TokenIssuer(private)
    return {
        "admin": issuer.mint("dev-admin", Role.ADMIN),
        "service_desk": issuer.mint("dev-desk", Role.SERVICE_DESK, store_id="S001"),
        "marketing": issuer.mint("dev-marketing", Role.MARKETING),
        "pos_S001": issuer.mint("pos-S001", Role.POS, store_id="S001"),
        "store_manager_S001": issuer.mint("dev-store-manager-S001", Role.STORE_MANAGER, store_id="S001"),
        # One of the demo's account managers (see crm_cli.demo.MANAGERS): their queue is not empty.
        "account_manager": issuer.mint("am-s001-chen", Role.ACCOUNT_MANAGER, store_id="S001"),
    }


def run(demo: bool) -> int:
    config = StackConfig.from_env()
    stack = Stack(config)
    stopping = False

    def _stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        print(f"starting broker and services (data in {config.data_dir}, logs in {stack.logs})", flush=True)
        stack.start()
        stack.wait_ready()
        tokens = dev_tokens(config.data_dir)
        if demo:
            from crm_cli.demo import load_demo

            load_demo(config.url("gateway"), config.data_dir)
        _print_banner(config, tokens)
        while not stopping:
            stack.check_alive()
            time.sleep(0.5)
        print("\nstopping...", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("stopped", flush=True)


def _print_banner(config: StackConfig, tokens: dict[str, str]) -> None:
    token_file = config.data_dir / "dev-tokens.env"
    token_file.write_text("".join(f"CRM_TOKEN_{k.upper()}={v}\n" for k, v in tokens.items()))
    token_file.chmod(0o600)
    lines = [
        "",
        "CRM platform is running:",
        f"  gateway     {config.url('gateway')}   (API docs: {config.url('gateway')}/docs)",
        *(f"  {name:<11} {config.url(name)}" for name in SERVICES if name != "gateway"),
        f"  broker      {config.host}:{config.broker_port}",
        f"  data        {config.data_dir}",
        "",
        f"Development tokens are in {token_file} (source it, then e.g.):",
        f'  curl -H "Authorization: Bearer $CRM_TOKEN_ADMIN" {config.url("gateway")}/api/v1/stores',
        f'  curl -H "Authorization: Bearer $CRM_TOKEN_ACCOUNT_MANAGER" {config.url("gateway")}/api/members/v1/tracking/queue',
        "Every service answers under the gateway at /api/<members|points|feedback>/...",
        "More tokens: crm token --role service_desk --store S001",
        "Press Ctrl-C to stop everything.",
    ]
    print("\n".join(lines), flush=True)
