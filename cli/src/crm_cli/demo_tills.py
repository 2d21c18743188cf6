"""One enrolled till per demo store, for trying the till's way in: exchange the printed client id
and secret at `POST /identity/v1/token` for a `pos` token of its store.

Enrolled through the gateway's API with the development admin token, as an admin would. The
credentials are kept in the data directory (owner only): a later `crm run --demo` keeps those that
still work and enrolls anew only for a store whose till no longer does."""

import contextlib
import json
from pathlib import Path

import httpx

from crm_cli.demo import STORES
from crm_cli.service_clients import ServiceCredential
from shared.auth import Role, TokenIssuer, ensure_dev_keypair


def tills_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "demo-tills.json"


def enroll_demo_tills(gateway: str, data_dir: Path, client: httpx.Client | None = None) -> dict[str, ServiceCredential]:
    """The working till credential of each demo store, by store id (`client`: tests pass the app's)."""
    private, _ = ensure_dev_keypair(data_dir / "keys")
    admin = {"Authorization": f"Bearer {TokenIssuer(private).mint('crm-run-demo', Role.ADMIN)}"}
    kept = _read(data_dir)
    tills: dict[str, ServiceCredential] = {}
    with contextlib.nullcontext(client) if client else httpx.Client(base_url=gateway, timeout=10.0) as client:
        for store_id, _, _ in STORES:
            credential = kept.get(store_id)
            if credential is None or not _works(client, credential):
                r = client.post("/identity/v1/clients", headers=admin, json={
                    "kind": "till", "store_id": store_id, "label": f"demo till of {store_id}",
                })
                r.raise_for_status()
                credential = ServiceCredential(r.json()["client_id"], r.json()["client_secret"])
            tills[store_id] = credential
    if tills != kept:
        path = tills_file(data_dir)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps({s: c.__dict__ for s, c in tills.items()}, indent=2))
    return tills


def _works(client: httpx.Client, credential: ServiceCredential) -> bool:
    r = client.post("/identity/v1/token", data={"grant_type": "client_credentials"},
                    auth=(credential.client_id, credential.client_secret))
    return r.status_code == 200


def _read(data_dir: Path) -> dict[str, ServiceCredential]:
    path = tills_file(data_dir)
    if not path.exists():
        return {}
    try:
        return {store: ServiceCredential(**value) for store, value in json.loads(path.read_text()).items()}
    except (ValueError, TypeError):
        return {}
