"""Checking, before anything starts, that every port the launcher will bind is free.

A busy port otherwise surfaces late and far from its cause: uvicorn exits with a bind error in its
own log, and Tansu's connect check is answered by whatever already listens there. Checking all of
them first lets `crm run` name the port, what it was for and which variable moves it.
"""

import errno
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class PortUse:
    """One port the launcher means to bind: what for, and which variable moves it."""

    port: int
    purpose: str
    setting: str


class PortsUnavailable(Exception):
    """One or more ports cannot be used; the message has one line per port."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a listener could bind `host:port` now; see `bind_error`."""
    return bind_error(port, host) is None


def bind_error(port: int, host: str = "127.0.0.1") -> str | None:
    """Why a listener could not bind `host:port` now (None if it could), found by binding it the
    way the servers will.

    SO_REUSEADDR as uvicorn and Tansu (tokio) set it: a port with only TIME_WAIT connections left
    by a previous run is free for them, so it must not count as taken here.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "is already in use"
            if exc.errno == errno.EACCES:
                return "needs privileges to bind"
            return f"cannot be bound ({exc.strerror})"
    return None


def check_ports(uses: list[PortUse], host: str = "127.0.0.1") -> None:
    """Raises PortsUnavailable naming every port that is out of range, given twice, or in use."""
    problems: list[str] = []
    seen: dict[int, PortUse] = {}
    for use in uses:
        if not 0 < use.port < 65536:
            problems.append(f"port {use.port} ({use.purpose}) is not a valid port; check {use.setting}")
        elif use.port in seen:
            other = seen[use.port]
            settings = " or ".join(dict.fromkeys((use.setting, other.setting)))  # a setting named once
            problems.append(f"port {use.port} is meant for both {other.purpose} and {use.purpose}; set {settings} so they differ")
        else:
            seen[use.port] = use
    for use in seen.values():
        if (error := bind_error(use.port, host)) is not None:
            problems.append(f"port {use.port} ({use.purpose}) {error}; {_how_to_move(use)}")
    if problems:
        raise PortsUnavailable(problems)


def _how_to_move(use: PortUse) -> str:
    # The services share one variable, so the hint says it moves all of them together.
    if use.setting == "CRM_BASE_PORT":
        return "set CRM_BASE_PORT to move the services"
    return f"set {use.setting} to move it"
