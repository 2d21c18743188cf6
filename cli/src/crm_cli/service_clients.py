"""The client credentials `crm run` gives the platform's own services (campaigns' message sender
calling members as itself), enrolled at the gateway before anything starts.

A secret is shown once, so the launcher keeps the ones it enrolled in the data directory (owner
only, beside the development signing key) and enrolls a new client only when the kept one no longer
works (first run, a wiped gateway database, an admin revoked or rotated it). It writes the
gateway's database through the gateway's own service layer, as the gateway would, rather than
through its API: the services must get their credential in their environment when they start, and
the gateway starts last."""

import asyncio
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway import __file__ as gateway_package
from gateway.config import Settings as GatewaySettings
from gateway.domain.identity import ClientKind
from gateway.service_layer import identity
from gateway.service_layer.identity import Actor
from shared.commands import Commands
from shared.db import make_engine, make_sessionmaker
from shared.migrations import upgrade

ACTOR = Actor("crm run", "operator")


@dataclass(frozen=True)
class ServiceCredential:
    client_id: str
    client_secret: str


def credentials_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "service-clients.json"


def ensure_service_client(data_dir: Path, service: str, database_url: str = "") -> ServiceCredential:
    """The working credential of `service`, enrolling one if the kept one does not work."""
    settings = GatewaySettings(
        environment="development", service_name="gateway", data_dir=data_dir, database_url=database_url,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(Path(gateway_package).parent / "migrations", settings.database)
    kept = _read(data_dir)
    credential = asyncio.run(_ensure(settings, service, kept.get(service)))
    if kept.get(service) != credential:
        _write(data_dir, {**kept, service: credential})
    return credential


async def _ensure(settings: GatewaySettings, service: str, kept: ServiceCredential | None) -> ServiceCredential:
    engine = make_engine(settings.database)
    try:
        commands = Commands(make_sessionmaker(engine), settings)
        async with commands() as uow:
            if kept is not None and await identity.authenticated(uow, kept.client_id, kept.client_secret) is not None:
                return kept
            row, secret = await identity.enroll(
                uow, ACTOR, ClientKind.SERVICE, service=service, label=f"{service}, enrolled by crm run",
            )
            return ServiceCredential(row.client_id, secret)
    finally:
        await engine.dispose()


def _read(data_dir: Path) -> dict[str, ServiceCredential]:
    path = credentials_file(data_dir)
    if not path.exists():
        return {}
    try:
        return {name: ServiceCredential(**value) for name, value in json.loads(path.read_text()).items()}
    except (ValueError, TypeError):
        return {}  # unreadable: enrolled anew, and the file rewritten


def _write(data_dir: Path, credentials: dict[str, ServiceCredential]) -> None:
    path = credentials_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps({name: asdict(c) for name, c in credentials.items()}, indent=2))
