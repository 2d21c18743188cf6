"""How a process that fails to start is reported: which part of the platform it is, why, and
where its log is, so the message is enough to act on without searching the data directory."""

import json
import re
from pathlib import Path

from pydantic import ValidationError

# Tansu colours its log lines even when they go to a file.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception)\b")


class StartupFailed(Exception):
    def __init__(self, what: str, reason: str, log_path: Path | None = None) -> None:
        self.what, self.reason, self.log_path = what, reason, log_path
        super().__init__(f"{what} failed to start: {reason}" + (f"; see {log_path}" if log_path else ""))


class Interrupted(Exception):
    """A stop (Ctrl-C, SIGTERM) was asked for while the platform was starting."""


class ProcessLog:
    """A child's log file, opened for appending, and where this run's part of it begins: earlier
    runs' lines stay in the file but must not be taken for this run's cause of failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.start = path.stat().st_size if path.exists() else 0

    def open(self):
        """A handle for the child's stdout; the child keeps it open, the caller closes its copy."""
        return open(self.path, "ab")

    def last_error(self, limit: int = 300) -> str | None:
        """The last line of this run that looks like an error (a Rust panic's message, a Python
        exception, uvicorn's bind error), without colour codes; None if there is none."""
        if not self.path.exists():
            return None
        with open(self.path, "rb") as f:
            f.seek(self.start)
            text = f.read().decode(errors="replace")
        for line in reversed(text.splitlines()):
            line = _ANSI.sub("", line).strip()
            if line.startswith("{"):  # a service's JSON log line: its message is the news
                try:
                    line = _headline(str(json.loads(line).get("message", line)))
                except (ValueError, AttributeError):
                    pass
            if re.search(r"error|err\b|panicked|exception", line, re.IGNORECASE):
                return line[:limit]
        return None


def _headline(message: str) -> str:
    """Of a message carrying a traceback, the last exception line ("sqlite3.OperationalError:
    unable to open database file"); otherwise its first line."""
    lines = message.strip().splitlines() or [""]
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line
    return lines[0]


def exit_reason(returncode: int, log: ProcessLog | None) -> str:
    """'exited with code N', with the log's last error line: Tansu exits 0 after a panic, so the
    code alone would read like a clean stop."""
    reason = f"exited with code {returncode}"
    detail = log.last_error() if log is not None else None
    return f"{reason} ({detail})" if detail else reason


def settings_problem(exc: ValidationError) -> str:
    """A service's settings refused, on one line in the variables the operator sets
    (`CRM_BUSINESS_TIMEZONE: 'Asia/Shangai' is not a time zone ...`), not pydantic's report."""
    problems = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"CRM_{name}: {message}" if name else message)
    return "; ".join(dict.fromkeys(problems))
