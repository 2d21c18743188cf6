"""`crm` command line: run, token, migrate, demo, import-sales."""

import argparse
import csv
import importlib
import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from pydantic import TypeAdapter, ValidationError

from crm_cli.startup import settings_problem
from shared.auth import MAX_TOKEN_LIFETIME, STORE_BOUND, Role, TokenIssuer
from shared.zones import TimeZoneName

SERVICE_NAMES = ("members", "points", "campaigns", "feedback", "gateway")
# The drivers of the services' databases (shared.db): PostgreSQL through asyncpg, SQLite files.
DATABASE_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")


def _data_dir() -> Path:
    return Path(os.environ.get("CRM_DATA_DIR", ".crm-data")).resolve()


def _address(text: str) -> str:
    # Refused with the option (exit 2) rather than at the first request, where it read as an
    # unreachable service (exit 1) and "what was imported before it is kept".
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) address, e.g. http://127.0.0.1:8000")
    return text


def _gateway_option(parser: argparse.ArgumentParser) -> None:
    port = os.environ.get("CRM_BASE_PORT", "8000")
    parser.add_argument("--gateway", type=_address, default=f"http://127.0.0.1:{port}",
                        help=f"the platform's gateway (default: http://127.0.0.1:{port}, from CRM_BASE_PORT)")


def cmd_run(args: argparse.Namespace) -> int:
    from crm_cli.stack import run

    return run(demo=args.demo)


def _signing_key() -> str | None:
    """The key the platform's tokens are signed with: CRM_JWT_PRIVATE_KEY, or the development key
    `crm run` keeps in its data directory. None, said on stderr, when there is neither: a key made
    here would sign tokens the running platform refuses ("invalid token")."""
    if pem := os.environ.get("CRM_JWT_PRIVATE_KEY"):
        where = "CRM_JWT_PRIVATE_KEY"
    else:
        private = _data_dir() / "keys" / "jwt-private.pem"
        if not private.exists():
            print(f"error: no signing key: {private} does not exist. `crm run` makes it in its data directory: run this "
                  "where it runs (or set CRM_DATA_DIR to that directory), or set CRM_JWT_PRIVATE_KEY", file=sys.stderr)
            return None
        pem, where = private.read_text(), str(private)
    try:
        TokenIssuer(pem).mint("key-check", Role.ADMIN)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # A path instead of the key's text, the public half, a key of another kind: one line, not
        # cryptography's traceback.
        print(f"error: {where} is not the platform's signing key (the PEM text of an Ed25519 private key, "
              f"not its path): {exc}", file=sys.stderr)
        return None
    return pem


def cmd_token(args: argparse.Namespace) -> int:
    """Mint a token with the development key in the data directory (never in production)."""
    role = Role(args.role)
    # Compared in hours, before a timedelta is made of them: 1e15 hours is beyond its range.
    if args.ttl_hours is not None and args.ttl_hours > (most := MAX_TOKEN_LIFETIME[role] / timedelta(hours=1)):
        # In the option's own unit: a timedelta prints a day as "1 day, 0:00:00".
        print(f"error: a {role} token may live at most {most:g} hours (--ttl-hours {most:g})", file=sys.stderr)
        return 2
    ttl = None if args.ttl_hours is None else timedelta(hours=args.ttl_hours)  # None: TokenIssuer's default
    if (role == Role.POS or role in STORE_BOUND) and not args.store:
        # Without one, the policy refuses every store-scoped action: a token that sees nothing.
        print(f"error: a {role} token needs --store", file=sys.stderr)
        return 2
    if role == Role.MEMBER and not args.member:
        print("error: a member token needs --member", file=sys.stderr)
        return 2
    if (private_pem := _signing_key()) is None:
        return 1
    token = TokenIssuer(private_pem).mint(
        args.subject or f"{role.value}-cli", role, store_id=args.store, member_id=args.member,
        ttl=ttl,
    )
    print(token)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """The init step of docker-compose and Kubernetes: what an operator reads in a pod's log is one
    line saying what is wrong, never a traceback."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from shared.migrations import upgrade

    module = importlib.import_module(f"{args.service}.config")
    try:
        settings = module.Settings()
    except ValidationError as exc:  # e.g. CRM_BUSINESS_TIMEZONE misspelt
        print(f"error: {args.service}: {settings_problem(exc)}", file=sys.stderr)
        return 2
    url = args.database_url or settings.database
    try:
        parsed = make_url(url)
    except ArgumentError:
        print(f"error: {url!r} is not a database URL (e.g. postgresql+asyncpg://user:password@host/db)", file=sys.stderr)
        return 2
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername not in DATABASE_DRIVERS:
        # The services talk to their databases asynchronously, through these drivers alone; another
        # URL (postgres://, postgresql:// as libpq writes them) fails deep in SQLAlchemy otherwise.
        print(f"error: {shown}: use postgresql+asyncpg:// or sqlite+aiosqlite://, not {parsed.drivername}://",
              file=sys.stderr)
        return 2
    try:
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            # As `crm run` makes the data directory; one it cannot make (no permission, a file in
            # the way) is the same one line as a database it cannot open.
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(Path(importlib.import_module(args.service).__file__).parent / "migrations", url)
    except (DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"error: {args.service}: cannot migrate the database at {shown}: {type(reason).__name__}: {reason}", file=sys.stderr)
        return 1
    print(f"{args.service}: migrated to head")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import httpx

    from crm_cli.demo import load_demo

    # The platform's own key, never one made here: run away from `crm run`'s data directory, a new
    # key would sign tokens the gateway refuses, and leave a stray key directory behind.
    if (private_pem := _signing_key()) is None:
        return 1
    try:
        load_demo(args.gateway, private_pem)
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        print(f"error: cannot reach the gateway at {args.gateway} ({reason}); start it with "
              "`crm run`, or point --gateway (or CRM_BASE_PORT) at it", file=sys.stderr)
        return 1
    except httpx.HTTPStatusError as exc:
        hint = ("; the gateway refuses tokens of this signing key: set CRM_DATA_DIR to the data directory of the "
                "`crm run` serving it, or CRM_JWT_PRIVATE_KEY to its key") if exc.response.status_code == 401 else ""
        print(f"error: {exc.response.status_code} from {exc.request.method} {exc.request.url}: {exc.response.text[:500]}{hint}",
              file=sys.stderr)
        return 1
    return 0


def _time_zone(name: str) -> str:
    try:
        return TypeAdapter(TimeZoneName).validate_python(name)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def _hours(text: str) -> float:
    # A token of zero or fewer hours is expired when minted (and 0 silently meant the default).
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not hours > 0 or hours == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: a token lives more than 0 hours")
    return hours


def _batch_size(text: str) -> int:
    # Members' own limit, checked here so that a bigger batch fails before the file is read, not
    # at the first request.
    from members.domain.sales_import import MAX_SALES_PER_BATCH

    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= size <= MAX_SALES_PER_BATCH:
        raise argparse.ArgumentTypeError(f"{size}: a batch holds 1 to {MAX_SALES_PER_BATCH} sales")
    return size


def cmd_import_sales(args: argparse.Namespace) -> int:
    import httpx

    from crm_cli.import_sales import ImportFailed, run
    from crm_cli.sales_file import FileProblem

    base_url = args.members_url or f"{args.gateway.rstrip('/')}/api/members"
    token = args.token or os.environ.get("CRM_TOKEN")
    if not token:
        # An admin's token of the signing key in use (CRM_JWT_PRIVATE_KEY, or the development
        # key of the data directory, as `crm token`): a staff login's token lasts a minute.
        if (private_pem := _signing_key()) is None:
            return 1
        token = TokenIssuer(private_pem).mint("import-sales-cli", Role.ADMIN)
    try:
        return run(args, base_url, token, sys.stdout, gateway=None if args.members_url else args.gateway.rstrip("/"))
    except OSError as exc:
        # The file (or the reject file) named with the reason, without Python's "[Errno 2]".
        print(f"error: {exc.filename or args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (FileProblem, csv.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ImportFailed, httpx.TransportError) as exc:
        # A dry run recorded nothing to keep.
        kept = "" if args.dry_run else "; what was imported before it is kept (present when run again)"
        print(f"error: {exc!s} ({base_url}){kept}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm", description="Supermarket CRM platform")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the broker, all services and the gateway (Ctrl-C stops them)")
    run.add_argument("--demo", action="store_true", help="load demo stores, members and sales once running")
    run.set_defaults(func=cmd_run)

    token = sub.add_parser("token", help="mint a bearer token with the development key")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--store", help="store id (required for pos, service_desk and store_manager)")
    token.add_argument("--member", help="member id (required for member)")
    token.add_argument("--subject", help="who the token is for (default: <role>-cli)")
    token.add_argument("--ttl-hours", type=_hours, help="default: 12, or the role's maximum if shorter")
    token.set_defaults(func=cmd_token)

    migrate = sub.add_parser("migrate", help="apply a service's database migrations (production init step)")
    migrate.add_argument("service", choices=SERVICE_NAMES)
    migrate.add_argument("--database-url", help="default: CRM_DATABASE_URL, else the SQLite file in CRM_DATA_DIR")
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="load demo data into a running platform")
    _gateway_option(demo)
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser(
        "import-sales", help="import a chain's past sales from a CSV or JSON-lines file (admin)",
        description="Loads past sales into the same records as live sales; safe to run again or to resume. "
                    "File format: services/members/README.md#importing-past-sales",
        # The statuses run() and cmd_import_sales answer (3 is import_sales.EXIT_REJECTED).
        epilog="exit status: 0 every sale was imported or already present; 3 the whole file was read but some "
               "rows were rejected (the summary and the reject file say which; a dry run too); 1 members refused "
               "a batch or could not be reached; 2 the file or an option cannot be used, or a line cannot be "
               "read; 130 interrupted",
    )
    imp.add_argument("file", help="the sales: .csv, or .jsonl / .ndjson (one JSON object a line)")
    imp.add_argument("--points", required=True, choices=["none", "rule-at-time"],
                     help="none: the sales earn nothing; rule-at-time: the earning rule in force at each sale's time")
    imp.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file's extension")
    imp.add_argument("--encoding",
                     help="the file's text encoding, e.g. gb18030 for GBK (default: utf-8, with or without a BOM, "
                          "and a file that reads like GBK is refused; --encoding utf-8 takes it as UTF-8 all the same)")
    imp.add_argument("--local-time-zone", type=_time_zone,
                     help="the zone of times given without a UTC offset, e.g. Asia/Shanghai (default: such times are refused)")
    imp.add_argument("--dry-run", action="store_true",
                     help="check every sale as an import would (reasons to the reject file) and import nothing")
    imp.add_argument("--rejects", help="where refused rows go, with line and reason (default: FILE.rejects.csv)")
    imp.add_argument("--batch-size", type=_batch_size, default=2000, help="sales a request (at most 5000)")
    _gateway_option(imp)
    imp.add_argument("--members-url", type=_address, help="call the members service directly at this address instead of the gateway")
    imp.add_argument("--token", help="an admin's bearer token (default: CRM_TOKEN, else one minted with the signing key)")
    imp.set_defaults(func=cmd_import_sales)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
