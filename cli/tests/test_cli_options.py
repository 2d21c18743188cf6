"""The command line refuses options it cannot honour before doing anything, naming the option."""

import socket
from pathlib import Path

import pytest

from crm_cli.main import main


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
    assert err.err == "error: a admin token may live at most 12:00:00\n" and err.out == ""


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
    assert main(["demo", "--gateway", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach the gateway at http://127.0.0.1:{port}") and "Traceback" not in err
