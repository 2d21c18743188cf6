"""The command line refuses options it cannot honour before doing anything, naming the option."""

import http.server
import socket
import threading
from pathlib import Path

import pytest

from crm_cli.main import main
from shared.auth import ensure_dev_keypair


@pytest.mark.parametrize("hours", ["0", "-1", "nan", "inf", "soon"])
def test_a_token_that_would_be_born_expired_is_refused(hours: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["token", "--role", "admin", "--ttl-hours", hours])
    assert exit_.value.code == 2
    err = capsys.readouterr()
    assert "--ttl-hours" in err.err and err.out == ""


@pytest.mark.parametrize("hours", ["1e15", "1e308"])
def test_a_token_longer_than_its_role_may_live_is_refused_however_long(hours: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "admin", "--ttl-hours", hours]) == 2
    err = capsys.readouterr()
    assert err.err == "error: a admin token may live at most 12 hours (--ttl-hours 12)\n" and err.out == ""


def test_a_pos_token_s_longest_life_is_said_in_hours(capsys: pytest.CaptureFixture[str]) -> None:
    # Not as Python prints a timedelta of a day ("1 day, 0:00:00").
    assert main(["token", "--role", "pos", "--store", "S001", "--ttl-hours", "25"]) == 2
    assert capsys.readouterr().err == "error: a pos token may live at most 24 hours (--ttl-hours 24)\n"


@pytest.mark.parametrize("size", ["0", "-5", "5001", "many"])
def test_a_batch_size_members_would_refuse_is_refused_before_reading(
    size: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text("store_id,pos_txn_id,occurred_at\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["import-sales", str(sales), "--points", "none", "--batch-size", size])
    assert exit_.value.code == 2
    assert "--batch-size" in capsys.readouterr().err
    assert not (tmp_path / "sales.csv.rejects.csv").exists()


def test_a_missing_sales_file_is_named_without_a_python_errno(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["import-sales", str(missing), "--points", "none", "--dry-run", "--token", "t"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {missing}: No such file or directory\n"


@pytest.mark.parametrize("command", [["token", "--role", "admin"], ["import-sales", "sales.csv", "--points", "none"]])
def test_without_the_platform_s_signing_key_nothing_is_minted_nor_a_key_made(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Run away from `crm run`'s data directory, a key made here would sign tokens the platform refuses.
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("CRM_JWT_PRIVATE_KEY", raising=False)
    assert main(command) == 1
    err = capsys.readouterr()
    assert err.err.startswith(f"error: no signing key: {tmp_path / 'elsewhere' / 'keys' / 'jwt-private.pem'} does not exist")
    assert err.out == "" and not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("role", ["pos", "service_desk", "store_manager"])
def test_a_token_of_a_role_bound_to_a_store_needs_the_store(role: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", role]) == 2
    assert capsys.readouterr().err == f"error: a {role} token needs --store\n"


def test_demo_without_a_running_gateway_says_so_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRM_JWT_PRIVATE_KEY", raising=False)
    ensure_dev_keypair(tmp_path / "keys")  # as `crm run` left it
    assert main(["demo", "--gateway", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach the gateway at http://127.0.0.1:{port}") and "Traceback" not in err


def test_demo_away_from_the_platform_s_data_directory_makes_no_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # A key made here would sign tokens the running gateway refuses: every request a 401.
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("CRM_JWT_PRIVATE_KEY", raising=False)
    assert main(["demo", "--gateway", "http://127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: no signing key: {tmp_path / 'elsewhere' / 'keys' / 'jwt-private.pem'} does not exist")
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("option", ["--gateway", "--members-url"])
@pytest.mark.parametrize("address", ["notaurl", "127.0.0.1:8000", "ftp://127.0.0.1", "http://"])
def test_an_address_that_is_no_http_address_is_an_unusable_option(
    option: str, address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # Not exit 1 with "what was imported before it is kept", as if a batch had failed half-way.
    sales = tmp_path / "sales.csv"
    sales.write_text("store_id,pos_txn_id,occurred_at\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["import-sales", str(sales), "--points", "none", "--token", "t", option, address])
    assert exit_.value.code == 2
    assert f"{option}: {address!r} is not an http(s) address" in capsys.readouterr().err


def test_demo_s_gateway_must_be_an_http_address(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--gateway", "localhost:8000"])
    assert exit_.value.code == 2 and "--gateway: 'localhost:8000' is not an http(s) address" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["/etc/crm/jwt-private.pem", "public"])
def test_a_signing_key_that_is_no_private_key_is_one_line(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # Its path instead of its text, or the public half: cryptography's traceback before.
    _, public = ensure_dev_keypair(tmp_path / "keys")
    monkeypatch.setenv("CRM_JWT_PRIVATE_KEY", public if key == "public" else key)
    for command in (["token", "--role", "admin"], ["demo", "--gateway", "http://127.0.0.1:1"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: CRM_JWT_PRIVATE_KEY is not the platform's signing key") and err.count("\n") == 1


def test_demo_whose_tokens_the_gateway_refuses_says_which_key_to_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # A gateway of another data directory's key answers every request 401 "invalid token".
    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail":"invalid token"}')

        do_GET = do_POST = do_PUT

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
        monkeypatch.delenv("CRM_JWT_PRIVATE_KEY", raising=False)
        ensure_dev_keypair(tmp_path / "keys")
        assert main(["demo", "--gateway", f"http://127.0.0.1:{server.server_address[1]}"]) == 1
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert err.startswith("error: 401 from ") and err.rstrip().endswith(
        "the gateway refuses tokens of this signing key: set CRM_DATA_DIR to the data directory of the `crm run` "
        "serving it, or CRM_JWT_PRIVATE_KEY to its key")
