"""Demo staff accounts, for trying the people's way in: log in to the console (`/console`) or at
`POST /identity/v1/login` with a printed login and password.

Created through the gateway's API with the development admin token, as an admin would, with
passwords the gateway generates. They are kept in the data directory (owner only): a later
`crm run --demo` keeps those that still log in, and has the gateway set a new password for an
account whose kept one no longer does (or that was deactivated)."""

import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from shared.auth import Role, TokenIssuer, ensure_dev_keypair

# login, name, role, store, the account manager they are (an id of the demo's MANAGERS)
DEMO_STAFF = [
    ("demo.admin", "演示管理员", "admin", None, None),
    ("demo.manager", "王店长", "store_manager", "S001", None),
    ("demo.am", "陈晓燕", "account_manager", "S001", "am-s001-chen"),
    ("demo.desk", "李服务台", "service_desk", "S001", None),
    ("demo.marketing", "赵市场", "marketing", None, None),
    ("demo.operator", "孙运维", "operator", None, None),
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    login: str
    password: str
    role: str
    store_id: str | None


def staff_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "demo-staff.json"


def create_demo_staff(gateway: str, data_dir: Path, client: httpx.Client | None = None) -> list[DemoLogin]:
    """A working login of each demo account (`client`: tests pass the app's)."""
    private, _ = ensure_dev_keypair(data_dir / "keys")
    admin = {"Authorization": f"Bearer {TokenIssuer(private).mint('crm-run-demo', Role.ADMIN)}"}
    kept = {d.login: d for d in _read(data_dir)}
    logins: list[DemoLogin] = []
    with contextlib.nullcontext(client) if client else httpx.Client(base_url=gateway, timeout=30.0) as client:
        existing = {s["login"]: s for s in _ok(client.get(
            "/identity/v1/staff", params={"include_deactivated": "true"}, headers=admin,
        )).json()}
        for login, name, role, store_id, manager_id in DEMO_STAFF:
            known = kept.get(login)
            if known is not None and _works(client, known):
                logins.append(known)
                continue
            account = existing.get(login)
            if account is None:
                created = _ok(client.post("/identity/v1/staff", headers=admin, json={
                    "login": login, "name": name, "role": role, "store_id": store_id,
                    **({"account_manager_id": manager_id} if manager_id else {}),
                })).json()
                password = created["password"]
            else:
                if account["deactivated_at"] is not None:
                    _ok(client.post(f"/identity/v1/staff/{account['staff_id']}/reactivate", headers=admin))
                password = _ok(client.post(
                    f"/identity/v1/staff/{account['staff_id']}/password", json={}, headers=admin,
                )).json()["password"]
            logins.append(DemoLogin(login, password, role, store_id))
    if logins != list(kept.values()):
        path = staff_file(data_dir)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps([asdict(d) for d in logins], indent=2, ensure_ascii=False))
    return logins


def _ok(r: httpx.Response) -> httpx.Response:
    r.raise_for_status()
    return r


def _works(client: httpx.Client, known: DemoLogin) -> bool:
    r = client.post("/identity/v1/login", json={"login": known.login, "password": known.password})
    if r.status_code != 200:
        return False
    # Only a check: end the session it opened.
    client.post("/identity/v1/logout", json={"refresh_token": r.json()["refresh_token"]})
    return True


def _read(data_dir: Path) -> list[DemoLogin]:
    path = staff_file(data_dir)
    if not path.exists():
        return []
    try:
        return [DemoLogin(**entry) for entry in json.loads(path.read_text())]
    except (ValueError, TypeError):
        return []
