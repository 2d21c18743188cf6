"""`crm migrate`, the init step of docker-compose and Kubernetes: a database it cannot use is one
line naming it (never its password) and an exit code, never a traceback; a SQLite file's directory
is made as `crm run` makes it."""

import pytest

from crm_cli.main import main


def test_a_url_that_is_no_database_url_is_exit_2(capsys) -> None:
    assert main(["migrate", "members", "--database-url", "garbage"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'garbage' is not a database URL") and "Traceback" not in err


def test_a_database_it_cannot_reach_is_exit_1_without_the_password(capsys) -> None:
    assert main(["migrate", "members", "--database-url", "postgresql+asyncpg://crm:s3cret@127.0.0.1:1/crm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: members: cannot migrate the database at postgresql+asyncpg://crm:***@127.0.0.1:1/crm: ")
    assert "s3cret" not in err and "Traceback" not in err


def test_a_sqlite_file_in_a_directory_not_made_yet_is_migrated(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "new" / "data"))
    assert main(["migrate", "points"]) == 0
    assert capsys.readouterr().out == "points: migrated to head\n"
    assert (tmp_path / "new" / "data" / "points.db").is_file()


@pytest.mark.parametrize("url", ["postgres://crm:s3cret@127.0.0.1:1/crm", "postgresql://crm:s3cret@127.0.0.1:1/crm",
                                 "mysql://crm:s3cret@127.0.0.1:1/crm", "sqlite:///members.db"])
def test_a_url_of_a_driver_the_services_do_not_use_names_the_ones_they_do(url: str, capsys) -> None:
    assert main(["migrate", "members", "--database-url", url]) == 2
    err = capsys.readouterr().err
    scheme = url.split("://")[0]
    assert err.startswith("error: ") and err.endswith(f": use postgresql+asyncpg:// or sqlite+aiosqlite://, not {scheme}://\n")
    assert "s3cret" not in err and "Traceback" not in err and err.count("\n") == 1


def test_a_setting_the_service_refuses_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CRM_BUSINESS_TIMEZONE", "Asia/Shangai")
    assert main(["migrate", "members"]) == 2
    assert capsys.readouterr().err == ("error: members: CRM_BUSINESS_TIMEZONE: 'Asia/Shangai' is not a time zone of the "
                                       "IANA database, e.g. Asia/Shanghai\n")


def test_a_data_directory_it_cannot_make_is_one_line_and_exit_1(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "a-file" / "data"))  # a file is in the way
    assert main(["migrate", "members"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: members: cannot migrate the database at sqlite+aiosqlite:///")
    assert "Traceback" not in err and err.count("\n") == 1
