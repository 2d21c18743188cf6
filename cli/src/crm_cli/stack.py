"""`crm run`: the broker, every service and the gateway on one machine, on SQLite files.

Each service is its own process with its own environment, exactly as in docker-compose; the
launcher only checks and picks ports, points every process at the same broker and data directory,
waits until all report ready, and stops them all (gateway first, broker last) on Ctrl-C. The
benchmarks start the platform with the same `Stack`, on PostgreSQL databases of their own.
"""

import functools
import importlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from crm_cli.broker import BROKER, free_ports, start_broker
from crm_cli.demo_staff import DemoLogin, create_demo_staff
from crm_cli.ports import PortsUnavailable, PortUse, check_ports
from crm_cli.service_clients import ServiceCredential, ensure_service_client
from crm_cli.startup import Interrupted, ProcessLog, StartupFailed, exit_reason, settings_problem
from shared.auth import Role, TokenIssuer, ensure_dev_keypair

# Port offsets from CRM_BASE_PORT; the gateway takes the base port itself. Also the start order:
# the gateway last, once the services it forwards to are starting.
SERVICES = {"members": 1, "points": 2, "campaigns": 3, "feedback": 4, "gateway": 0}
# Services that call others as themselves (campaigns' message sender reading a contact from
# members): each gets a client credential of its own, enrolled at the gateway before start-up.
SERVICE_CLIENTS = ("campaigns",)
# A service that exits while the platform runs is started again alone (`Stack.revive`): after 1 s,
# doubled with each restart in the last ten minutes up to 30 s; a sixth exit in them stops all.
RESTART_BACKOFF_S = 1.0
RESTART_BACKOFF_MAX_S = 30.0
RESTART_WINDOW_S = 600.0
RESTARTS_IN_WINDOW = 5
# What the launcher gives each service itself: its name, environment, database, data directory,
# logs, the broker it started (Tansu, without authentication), the other services' addresses, the
# credential it enrolled and the signing key's place. Exported in the shell these stay behind: one
# CRM_DATABASE_URL would give all five services one database, a CRM_KAFKA_BOOTSTRAP another broker.
LAUNCHER_SETTINGS = frozenset({
    "CRM_SERVICE_NAME", "CRM_ENVIRONMENT", "CRM_DATA_DIR", "CRM_DATABASE_URL", "CRM_AUTO_MIGRATE", "CRM_LOG_JSON",
    "CRM_IDENTITY_URL", "CRM_SERVICE_CLIENT_ID", "CRM_SERVICE_CLIENT_SECRET", "CRM_ALIYUN_CALLBACK_TOKEN",
    "CRM_JWT_PRIVATE_KEY", "CRM_JWT_PRIVATE_KEY_FILE", *(f"CRM_{name.upper()}_URL" for name in SERVICES),
})
LAUNCHER_PREFIXES = ("CRM_KAFKA_", "CRM_OPERATOR_KAFKA_")


@dataclass
class StackConfig:
    data_dir: Path
    base_port: int = 8000
    broker_port: int = 9092
    host: str = "127.0.0.1"
    # Which services to start (started in the order of SERVICES whatever the order here).
    services: tuple[str, ...] = tuple(SERVICES)
    # Ports chosen by the caller instead of base_port + offset (the benchmarks take free ones).
    ports: dict[str, int] = field(default_factory=dict)
    # CRM_DATABASE_URL per service; a service without one uses its SQLite file in data_dir.
    database_urls: dict[str, str] = field(default_factory=dict)
    # More environment for every service, applied last (e.g. CRM_LOG_LEVEL for a benchmark).
    env: dict[str, str] = field(default_factory=dict)
    # Each child in its own session, so a Ctrl-C in the terminal reaches only this process, which
    # then stops them in order. Off for `crm run`: a closed terminal must take the services with it.
    own_session: bool = False
    # Deliberate overrides (log level, secrets) taken from this process's environment; a benchmark
    # that mints its own tokens clears it, so a key exported in the shell cannot make them invalid.
    # CRM_PUBLIC_URL too: a gateway reached through a tunnel or proxy gives links another address;
    # and the chain's time zone, which every service must read the same.
    passthrough: tuple[str, ...] = (
        "CRM_LOG_LEVEL", "CRM_IDENTITY_PEPPER", "CRM_JWT_PUBLIC_KEY", "CRM_PUBLIC_URL", "CRM_BUSINESS_TIMEZONE",
    )
    # Client credentials by service, passed to it as CRM_SERVICE_CLIENT_ID / _SECRET with the
    # gateway as CRM_IDENTITY_URL (`crm run` enrolls them: enroll_service_clients).
    service_credentials: dict[str, ServiceCredential] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "StackConfig":
        """From CRM_DATA_DIR, CRM_BASE_PORT and CRM_BROKER_PORT; ValueError names a bad setting."""
        return cls(
            data_dir=Path(os.environ.get("CRM_DATA_DIR", ".crm-data")).resolve(),
            base_port=_int_setting("CRM_BASE_PORT", 8000),
            broker_port=_int_setting("CRM_BROKER_PORT", 9092),
        )

    @classmethod
    def on_free_ports(cls, data_dir: Path, services: tuple[str, ...] = tuple(SERVICES), **options: Any) -> "StackConfig":
        """`services` and the broker on ports free now, all different (the benchmarks, the tests)."""
        broker_port, *ports = free_ports(len(services) + 1)
        return cls(data_dir, broker_port=broker_port, services=services, ports=dict(zip(services, ports, strict=True)), **options)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def port(self, service: str) -> int:
        return self.ports.get(service, self.base_port + SERVICES[service])

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.port(service)}"

    def start_order(self) -> list[str]:
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
        return [name for name in SERVICES if name in self.services]

    def port_uses(self) -> list[PortUse]:
        """Every port the stack will bind, with what it is for and the setting that moves it."""
        return [
            *(PortUse(self.port(name), name, "CRM_BASE_PORT") for name in self.start_order()),
            PortUse(self.broker_port, "the broker", "CRM_BROKER_PORT"),
        ]

    def service_env(self, service: str) -> dict[str, str]:
        # The gateway learns only the services this stack starts; the others keep its defaults.
        env = service_environment(
            service, self.data_dir, f"{self.host}:{self.broker_port}",
            {name: self.url(name) for name in self.start_order() if name != "gateway"},
        )
        # Links sent to customers point at this stack's gateway, wherever CRM_BASE_PORT put it.
        env["CRM_PUBLIC_URL"] = self.url("gateway")
        # The service's own settings exported in the shell (`CRM_VIP_THRESHOLD=3000 crm run`), as
        # the services' READMEs list them; none for a caller that takes nothing from the shell (a
        # cleared passthrough: the benchmarks).
        if self.passthrough:
            env.update(shell_settings(service))
        # Pass through deliberate overrides, not the launcher's own knobs.
        for key in self.passthrough:
            if key in os.environ:
                env[key] = os.environ[key]
        # The signing key goes with its public half, and to the gateway (the issuer) alone.
        if service == "gateway" and "CRM_JWT_PUBLIC_KEY" in self.passthrough and "CRM_JWT_PRIVATE_KEY" in os.environ:
            env["CRM_JWT_PRIVATE_KEY"] = os.environ["CRM_JWT_PRIVATE_KEY"]
        if service in self.database_urls:
            env["CRM_DATABASE_URL"] = self.database_urls[service]
        if service == "campaigns":  # the SMS provider's pushes (replies, reports) carry this secret
            env["CRM_ALIYUN_CALLBACK_TOKEN"] = sms_callback_token(self.data_dir)
        if (credential := self.service_credentials.get(service)) is not None:
            env.update(
                CRM_IDENTITY_URL=self.url("gateway"),
                CRM_SERVICE_CLIENT_ID=credential.client_id,
                CRM_SERVICE_CLIENT_SECRET=credential.client_secret,
            )
        env.update(self.env)
        return env


def shell_settings(service: str) -> dict[str, str]:
    """The settings of `service` set in this process's environment, but the launcher's own."""
    names = setting_names(service)
    return {key: value for key, value in os.environ.items()
            if key in names and key not in LAUNCHER_SETTINGS and not key.startswith(LAUNCHER_PREFIXES)}


@functools.cache
def setting_names(service: str) -> frozenset[str]:
    """The environment variables `service` reads its settings from (`<service>.config.Settings`)."""
    settings = importlib.import_module(f"{service}.config").Settings
    prefix = settings.model_config.get("env_prefix") or ""
    return frozenset(f"{prefix}{name}".upper() for name in settings.model_fields)


def _int_setting(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a port number") from None


def service_environment(service: str, data_dir: Path, bootstrap: str, urls: dict[str, str]) -> dict[str, str]:
    """The environment of one service process on a bare machine: this process's environment
    without its CRM_* knobs, plus where the data, the broker and the other services are."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    # glibc gives each thread that allocates its own malloc arena, up to eight a core; a service
    # has a thread per SQLite connection and the event loop's executor, and memory freed in one
    # arena is not reused by the others. Two arenas took members' peak RSS from 196 to 181 MB over
    # 10,000 sales on SQLite (bench/ingest.py), at the same CPU a sale. The image sets the same.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    env.update(
        CRM_SERVICE_NAME=service,
        CRM_ENVIRONMENT="development",
        CRM_DATA_DIR=str(data_dir),
        CRM_KAFKA_BOOTSTRAP=bootstrap,
        CRM_LOG_JSON="true",
        **{f"CRM_{name.upper()}_URL": url for name, url in urls.items()},
    )
    return env


def sms_callback_token(data_dir: Path) -> str:
    """The shared secret of the SMS provider's pushes to campaigns, kept in the data directory (owner
    only) so it outlives a restart: with it a developer plays the provider and sends a reply."""
    path = data_dir / "keys" / "sms-callback-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def enroll_service_clients(config: StackConfig) -> None:
    """Gives each service of SERVICE_CLIENTS that this stack starts, beside the gateway, its client
    credential: the one kept from an earlier run while it still works, else a new one."""
    if "gateway" not in config.services:
        return
    for service in SERVICE_CLIENTS:
        if service in config.services:
            config.service_credentials[service] = ensure_service_client(
                config.data_dir, service, config.database_urls.get("gateway", ""),
            )


class Stack:
    """Every process of one platform: `start()` checks the ports and starts the broker and the
    services, `wait_ready()` polls them with a deadline, `stop()` ends them by pid, in order."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = config.log_dir
        self._process_logs: dict[str, ProcessLog] = {}
        self._exited: dict[str, float] = {}  # a service that exited -> when it is started again
        self._restarts: dict[str, list[float]] = {}  # when each service was started again, lately

    def check_ports(self) -> None:
        """PortsUnavailable naming each port that is taken; called before anything is started."""
        check_ports(self.config.port_uses(), self.config.host)

    def start(self) -> None:
        """Starts the broker (waiting until it accepts connections) and then every service.
        Nothing is started if a port is taken; on StartupFailed the caller still calls stop()."""
        self.check_ports()
        self.logs.mkdir(parents=True, exist_ok=True)
        ensure_dev_keypair(self.config.data_dir / "keys")  # the services read the public half from here
        self._process_logs["broker"] = ProcessLog(self.logs / "broker.log")
        self.procs["broker"] = start_broker(self.config.broker_port, self.logs / "broker.log", self.config.host)
        for service in self.config.start_order():
            self._process_logs[service] = ProcessLog(self.logs / f"{service}.log")
            self.procs[service] = self._start_service(service)

    def _start_service(self, service: str) -> subprocess.Popen:
        with self._process_logs[service].open() as out:  # the child keeps its own handle
            return subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", f"{service}.main:create_app", "--factory",
                    "--host", self.config.host, "--port", str(self.config.port(service)), "--no-access-log",
                ],
                env=self.config.service_env(service),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=self.config.own_session,
            )

    def wait_ready(self, timeout: float = 90.0, stopping: Callable[[], bool] = lambda: False) -> None:
        """Polls each service's /health/ready until all answer 200; StartupFailed names a process
        that exits meanwhile, or the services still not ready at the deadline. Interrupted once
        `stopping()` says a stop was asked for: looked at first, as a Ctrl-C in the terminal
        reaches the children too, and their exits are then no failure to report."""
        deadline = time.monotonic() + timeout
        pending = [name for name in self.procs if name != "broker"]
        with httpx.Client(timeout=2.0) as client:
            while pending:
                if stopping():
                    raise Interrupted
                self._check_started()
                for service in list(pending):
                    try:
                        if client.get(f"{self.config.url(service)}/health/ready").status_code == 200:
                            pending.remove(service)
                    except httpx.HTTPError:
                        pass
                if not pending:
                    return
                if time.monotonic() > deadline:
                    names = ", ".join(pending)
                    where = self.log_path(pending[0]) if len(pending) == 1 else self.logs
                    plural = "service" if len(pending) == 1 else "services"
                    raise StartupFailed(f"the {names} {plural}", f"not ready after {timeout:g}s", where)
                time.sleep(0.3)

    def _check_started(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                what = BROKER if name == "broker" else f"the {name} service"
                raise StartupFailed(what, exit_reason(proc.returncode, self._process_logs.get(name)),
                                    self.log_path(name))

    def check_alive(self) -> None:
        """RuntimeError naming a process that has exited since start-up, and its log (the
        benchmarks: a figure measured while a process was down is no figure)."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {self.log_path(name)}")

    def revive(self, now: float | None = None) -> list[str]:
        """Starts again, alone, a service that has exited since start-up (a crash, the kernel's
        out-of-memory killer): it loses nothing it accepted, as every service picks up where its
        database and the broker say it was. Each waits `RESTART_BACKOFF_S`, doubled with each of
        its restarts in the last `RESTART_WINDOW_S`; one that exits more often than
        `RESTARTS_IN_WINDOW` times in that window will not stay up (a setting, a full disk), and
        nor can the broker be restarted under the services: RuntimeError, naming it and its log,
        stops the platform. Answers a line for each exit seen and each restart."""
        now = time.monotonic() if now is None else now
        said = []
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                continue
            if name == "broker":
                raise RuntimeError(f"{BROKER} exited with code {proc.returncode}; see {self.log_path(name)}")
            restarts = self._restarts.setdefault(name, [])
            restarts[:] = [at for at in restarts if now - at < RESTART_WINDOW_S]
            if name not in self._exited:
                if len(restarts) >= RESTARTS_IN_WINDOW:
                    raise RuntimeError(
                        f"{name} exited with code {proc.returncode}, after {len(restarts)} restarts in "
                        f"{RESTART_WINDOW_S / 60:g} minutes; see {self.log_path(name)}")
                self._exited[name] = now + min(RESTART_BACKOFF_S * 2 ** len(restarts), RESTART_BACKOFF_MAX_S)
                said.append(f"{name} exited with code {proc.returncode}; see {self.log_path(name)}; "
                            f"starting it again in {self._exited[name] - now:g}s")
            elif now >= self._exited[name]:
                del self._exited[name]
                restarts.append(now)
                self.procs[name] = self._start_service(name)
                said.append(f"{name} started again ({len(restarts)} of {RESTARTS_IN_WINDOW} restarts allowed in "
                            f"{RESTART_WINDOW_S / 60:g} minutes)")
        return said

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pids(self) -> dict[str, int]:
        """Process ids of the processes still running, by name ("broker" for Tansu)."""
        return {name: proc.pid for name, proc in self.procs.items() if proc.poll() is None}

    def stop(self) -> None:
        # The gateway first so no new work arrives, then the services behind it together, the
        # broker last so the services can flush.
        _terminate([self.procs[n] for n in ("gateway",) if n in self.procs])
        _terminate([proc for name, proc in self.procs.items() if name not in ("gateway", "broker")])
        _terminate([self.procs[n] for n in ("broker",) if n in self.procs])
        self.procs.clear()


def _terminate(procs: list[subprocess.Popen], timeout: float = 15.0) -> None:
    """SIGTERM to all, then waits for each until a shared deadline; what is left is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


# What start-up can end with besides a busy port: a process that fails to start or dies, a setting
# the services refuse (the launcher reads the gateway's first, enrolling the service clients), the
# gateway's database, files, and the demo's requests to the gateway and its record on the broker.
STARTUP_ERRORS = (StartupFailed, RuntimeError, TimeoutError, OSError, ValidationError, SQLAlchemyError, httpx.HTTPError,
                  KafkaError)


class StopRequest:
    """Ctrl-C or SIGTERM, as the signal handler notes it: the running platform is stopped at the
    next look, and start-up between its steps (`check`) and while it waits for the services."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame: object) -> None:
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise Interrupted


def run(demo: bool) -> int:
    try:
        config = StackConfig.from_env()
        stack = Stack(config)
        stack.check_ports()
    except (ValueError, PortsUnavailable) as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        print("nothing was started", file=sys.stderr)
        return 1
    stop = StopRequest()
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"starting broker and services (data in {config.data_dir}, logs in {stack.logs})", flush=True)
        tokens, tills, staff = _start(stack, demo, stop)
        _print_banner(config, tokens, tills, staff)
        while not stop.requested:
            for line in stack.revive():
                # The terminal's Ctrl-C reaches the services too: their exits are then the stop's.
                if not stop.requested:
                    print(line, file=sys.stderr, flush=True)
            time.sleep(0.5)
        print("\nstopping...", flush=True)
        return 0
    except PortsUnavailable as exc:  # taken between the check above and the start
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 1
    except Interrupted:
        return _interrupted()
    except STARTUP_ERRORS as exc:
        if stop.requested:
            # The terminal's Ctrl-C reaches the children as well: the broker's exit, or the demo's
            # request to a service gone, is the stop's doing, not a failure to report.
            return _interrupted()
        print(f"error: {_failure(exc, stack.logs)}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("stopped", flush=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(
    stack: Stack, demo: bool, stop: StopRequest,
) -> tuple[dict[str, str], dict[str, ServiceCredential], list[DemoLogin]]:
    """Everything up to the banner: the platform, ready, and the demo data if asked for; the
    development tokens, the demo's tills and staff logins."""
    config = stack.config
    enroll_service_clients(config)
    stop.check()
    stack.start()
    stack.wait_ready(stopping=lambda: stop.requested)
    tokens = dev_tokens(config.data_dir)
    if not demo:
        return tokens, {}, []
    from crm_cli.demo import load_demo
    from crm_cli.demo_dead_letter import plant_demo_dead_letter
    from crm_cli.demo_tills import enroll_demo_tills

    load_demo(config.url("gateway"), ensure_dev_keypair(config.data_dir / "keys")[0])
    stop.check()
    tills = enroll_demo_tills(config.url("gateway"), config.data_dir)
    staff = create_demo_staff(config.url("gateway"), config.data_dir)
    stop.check()
    plant_demo_dead_letter(f"{config.host}:{config.broker_port}")
    stop.check()
    return tokens, tills, staff


def _interrupted() -> int:
    print("\ninterrupted", flush=True)
    return 130


def _failure(exc: BaseException, logs: Path) -> str:
    """One line for what ended start-up: a StartupFailed names the process and its log itself."""
    if isinstance(exc, ValidationError):
        return settings_problem(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return (f"loading the demo data: {exc.response.status_code} from {exc.request.method} {exc.request.url}: "
                f"{exc.response.text[:300]}; the services' logs are in {logs}")
    if isinstance(exc, httpx.HTTPError):
        return f"loading the demo data: {type(exc).__name__}: {exc}; the services' logs are in {logs}"
    if isinstance(exc, KafkaError):
        return f"planting the demo's dead letter on the broker: {exc}; its log is {logs / 'broker.log'}"
    if isinstance(exc, DBAPIError):
        return f"the gateway's database: {type(exc.orig).__name__}: {exc.orig}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc) or type(exc).__name__


def _print_banner(
    config: StackConfig, tokens: dict[str, str], tills: dict[str, ServiceCredential], staff: list[DemoLogin] | None = None,
) -> None:
    token_file = config.data_dir / "dev-tokens.env"
    token_file.write_text("".join(f"CRM_TOKEN_{k.upper()}={v}\n" for k, v in tokens.items())
                          + f"CRM_SMS_CALLBACK_TOKEN={sms_callback_token(config.data_dir)}\n")
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
        "Every service answers under the gateway at /api/<members|points|feedback|campaigns>/...",
        "More tokens: crm token --role service_desk --store S001",
        "Messages go to the local outbox (GET /api/campaigns/v1/outbox with $CRM_TOKEN_ADMIN); a customer's SMS",
        "reply, as the provider would push it (T, TD, R or 退订 withdraws their marketing SMS consent):",
        f"  curl -H 'Content-Type: application/json' '{config.url('campaigns')}/v1/providers/aliyun/sms-replies"
        "?token='$CRM_SMS_CALLBACK_TOKEN -d '[{\"phone_number\": \"13912345678\", \"content\": \"T\", "
        "\"send_time\": \"2026-12-01 20:00:00\", \"sign_name\": \"邻里生活超市\"}]'",
    ]
    if tills:
        gateway = config.url("gateway")
        lines += [
            "",
            "Demo tills (client id, secret), each exchanges its credential for a pos token of its store:",
            *(f"  {store}  {c.client_id}  {c.client_secret}" for store, c in tills.items()),
            f'  curl -u {next(iter(tills.values())).client_id}:<secret> -d grant_type=client_credentials {gateway}/identity/v1/token',
        ]
    if staff:
        gateway = config.url("gateway")
        lines += [
            "",
            f"Demo staff (login, password, role, store), kept in {config.data_dir / 'keys' / 'demo-staff.json'}; "
            f"log in to the console at {gateway}/console, or:",
            *(f"  {d.login:<15} {d.password}  {d.role}{'  ' + d.store_id if d.store_id else ''}" for d in staff),
            f"  curl -H 'Content-Type: application/json' -d '{{\"login\": \"{staff[0].login}\", \"password\": \"<password>\"}}' "
            f"{gateway}/identity/v1/login",
        ]
    lines.append("Press Ctrl-C to stop everything.")
    print("\n".join(lines), flush=True)
