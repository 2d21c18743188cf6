"""`crm run` gives campaigns a working client credential, keeps it across runs while it works and
enrolls a new one when it does not; `crm run --demo` does the same for one till per demo store, and
creates the demo staff accounts with passwords that keep working across runs."""

import stat
from datetime import timedelta

from fastapi.testclient import TestClient

from crm_cli.demo import STORES
from crm_cli.demo_staff import DEMO_STAFF, create_demo_staff, staff_file
from crm_cli.demo_tills import enroll_demo_tills, tills_file
from crm_cli.service_clients import credentials_file, ensure_service_client
from crm_cli.stack import StackConfig, enroll_service_clients
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenIssuer, TokenVerifier, ensure_dev_keypair


def gateway_app(data_dir):
    _, public = ensure_dev_keypair(data_dir / "keys")
    settings = Settings(
        environment="test", data_dir=data_dir, jwt_public_key=public, kafka_bootstrap="127.0.0.1:1",
        consume_events=False, jobs_enabled=False, log_json=False,
    )
    return create_app(settings), public


def admin(data_dir) -> dict[str, str]:
    private, _ = ensure_dev_keypair(data_dir / "keys")
    return {"Authorization": f"Bearer {TokenIssuer(private).mint('admin', Role.ADMIN, ttl=timedelta(hours=1))}"}


def exchange(client: TestClient, client_id: str, secret: str):
    return client.post("/identity/v1/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def test_campaigns_gets_a_credential_that_is_kept_while_it_works_and_replaced_when_revoked(tmp_path) -> None:
    data_dir = tmp_path / "data"
    first = ensure_service_client(data_dir, "campaigns")
    assert ensure_service_client(data_dir, "campaigns") == first
    assert stat.S_IMODE(credentials_file(data_dir).stat().st_mode) == 0o600

    app, public = gateway_app(data_dir)
    with TestClient(app) as gateway:
        r = exchange(gateway, first.client_id, first.client_secret)
        assert r.status_code == 200, r.text
        principal = TokenVerifier(public, "crm-identity", "crm").verify(r.json()["access_token"])
        assert (principal.role, principal.subject) == (Role.SERVICE, "campaigns")
        audit = gateway.get(f"/identity/v1/clients/{first.client_id}/audit", headers=admin(data_dir)).json()
        assert [(e["action"], e["actor"]) for e in audit] == [("created", "crm run")]
        assert gateway.post(f"/identity/v1/clients/{first.client_id}/revoke", headers=admin(data_dir)).status_code == 200

    second = ensure_service_client(data_dir, "campaigns")
    assert second.client_id != first.client_id
    with TestClient(gateway_app(data_dir)[0]) as gateway:
        assert exchange(gateway, second.client_id, second.client_secret).status_code == 200


def test_the_launcher_hands_campaigns_its_credential_and_the_gateway_as_identity_url(tmp_path) -> None:
    config = StackConfig(tmp_path / "data", base_port=18000)
    enroll_service_clients(config)
    env = config.service_env("campaigns")
    credential = config.service_credentials["campaigns"]
    assert env["CRM_IDENTITY_URL"] == "http://127.0.0.1:18000"
    assert (env["CRM_SERVICE_CLIENT_ID"], env["CRM_SERVICE_CLIENT_SECRET"]) == (credential.client_id, credential.client_secret)
    assert "CRM_SERVICE_CLIENT_SECRET" not in config.service_env("members")
    # A stack without the gateway has no identity endpoint to give anyone.
    alone = StackConfig(tmp_path / "other", services=("campaigns",))
    enroll_service_clients(alone)
    assert alone.service_credentials == {} and "CRM_IDENTITY_URL" not in alone.service_env("campaigns")


def test_campaigns_gets_the_sms_callback_secret_kept_across_runs_and_nobody_else_does(tmp_path, monkeypatch) -> None:
    from campaigns.config import Settings as CampaignsSettings
    from crm_cli.stack import sms_callback_token

    config = StackConfig(tmp_path / "data", base_port=18000)
    secret = config.service_env("campaigns")["CRM_ALIYUN_CALLBACK_TOKEN"]
    assert len(secret) >= 32 and secret == sms_callback_token(tmp_path / "data")
    assert StackConfig(tmp_path / "data", base_port=19000).service_env("campaigns")["CRM_ALIYUN_CALLBACK_TOKEN"] == secret
    assert stat.S_IMODE((tmp_path / "data" / "keys" / "sms-callback-token").stat().st_mode) == 0o600
    assert all("CRM_ALIYUN_CALLBACK_TOKEN" not in config.service_env(s) for s in ("members", "points", "feedback", "gateway"))
    # The variable is the one campaigns reads its setting from.
    monkeypatch.setenv("CRM_ALIYUN_CALLBACK_TOKEN", secret)
    assert CampaignsSettings().aliyun_callback_token.get_secret_value() == secret


def test_the_demo_enrolls_one_till_per_store_once(tmp_path) -> None:
    data_dir = tmp_path / "data"
    ensure_service_client(data_dir, "campaigns")  # migrates the gateway's database, as crm run does first
    app, public = gateway_app(data_dir)
    with TestClient(app) as gateway:
        for store_id, name, city in STORES:
            assert gateway.put(f"/api/v1/stores/{store_id}", json={"name": name, "city": city}, headers=admin(data_dir)).status_code == 200
        tills = enroll_demo_tills("http://unused", data_dir, client=gateway)
    assert sorted(tills) == [s for s, _, _ in STORES]
    assert stat.S_IMODE(tills_file(data_dir).stat().st_mode) == 0o600
    with TestClient(gateway_app(data_dir)[0]) as gateway:
        assert enroll_demo_tills("http://unused", data_dir, client=gateway) == tills
        for store_id, credential in tills.items():
            r = exchange(gateway, credential.client_id, credential.client_secret)
            principal = TokenVerifier(public, "crm-identity", "crm").verify(r.json()["access_token"])
            assert (principal.role, principal.store_id) == (Role.POS, store_id)
        assert len(gateway.get("/identity/v1/clients?kind=till", headers=admin(data_dir)).json()) == len(STORES)


def test_a_signing_key_exported_in_the_shell_reaches_the_gateway_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_JWT_PRIVATE_KEY", "private-pem")
    monkeypatch.setenv("CRM_JWT_PUBLIC_KEY", "public-pem")
    config = StackConfig(tmp_path / "data")
    assert config.service_env("gateway")["CRM_JWT_PRIVATE_KEY"] == "private-pem"
    assert all("CRM_JWT_PRIVATE_KEY" not in config.service_env(s) for s in ("members", "points", "campaigns", "feedback"))
    # A benchmark that passes nothing through keeps the development pair for both halves.
    assert "CRM_JWT_PRIVATE_KEY" not in StackConfig(tmp_path / "data", passthrough=()).service_env("gateway")


def test_the_demo_creates_its_staff_accounts_once_and_renews_a_password_that_stopped_working(tmp_path) -> None:
    data_dir = tmp_path / "data"
    ensure_service_client(data_dir, "campaigns")  # migrates the gateway's database, as crm run does first
    app, public = gateway_app(data_dir)
    with TestClient(app) as gateway:
        for store_id, name, city in STORES:
            assert gateway.put(f"/api/v1/stores/{store_id}", json={"name": name, "city": city}, headers=admin(data_dir)).status_code == 200
        staff = create_demo_staff("http://unused", data_dir, client=gateway)
        assert [(d.login, d.role, d.store_id) for d in staff] == [(login, role, store) for login, _, role, store, _ in DEMO_STAFF]
        assert stat.S_IMODE(staff_file(data_dir).stat().st_mode) == 0o600
        assert create_demo_staff("http://unused", data_dir, client=gateway) == staff
        manager = next(d for d in staff if d.role == "store_manager")
        r = gateway.post("/identity/v1/login", json={"login": manager.login, "password": manager.password})
        principal = TokenVerifier(public, "crm-identity", "crm").verify(r.json()["access_token"])
        assert (principal.role, principal.store_id) == (Role.STORE_MANAGER, "S001")
        # The account manager logs in as one of the demo's managers, whose customers they follow.
        am = next(d for d in staff if d.role == "account_manager")
        r = gateway.post("/identity/v1/login", json={"login": am.login, "password": am.password})
        principal = TokenVerifier(public, "crm-identity", "crm").verify(r.json()["access_token"])
        assert (principal.role, principal.subject, principal.store_id) == (Role.ACCOUNT_MANAGER, "am-s001-chen", "S001")
        # An admin deactivated the manager: the next demo run brings the account back with a new password.
        account = next(s for s in gateway.get("/identity/v1/staff", headers=admin(data_dir)).json() if s["login"] == manager.login)
        assert gateway.post(f"/identity/v1/staff/{account['staff_id']}/deactivate", headers=admin(data_dir)).status_code == 200
        again = create_demo_staff("http://unused", data_dir, client=gateway)
        renewed = next(d for d in again if d.login == manager.login)
        assert renewed.password != manager.password
        assert gateway.post("/identity/v1/login", json={"login": manager.login, "password": renewed.password}).status_code == 200
        assert len(gateway.get("/identity/v1/staff", headers=admin(data_dir)).json()) == len(DEMO_STAFF)
