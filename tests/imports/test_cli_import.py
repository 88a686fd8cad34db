"""``mrm import members FILE``: the import service from a terminal."""

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from api.cli import main
from tests.imports.files import FRENCH_HEADERS, french_rows, write_csv


def _run(tmp_path, *args):
    env = {
        "MRM_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "MRM_ENV": "development",
        "MRM_LOG_LEVEL": "WARNING",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_import_dry_run_then_for_real(tmp_path):
    assert _run(tmp_path, "db", "upgrade").exit_code == 0
    rows = french_rows(5)
    rows[3][2] = "123456789"  # bad SIREN check digit
    path = tmp_path / "adherents.csv"
    path.write_bytes(write_csv(FRENCH_HEADERS, rows))
    report_path = tmp_path / "problems.csv"

    dry = _run(
        tmp_path,
        "import",
        "members",
        str(path),
        "--dry-run",
        "--json",
        "--report",
        str(report_path),
    )
    assert dry.exit_code == 1
    report = json.loads(dry.stdout)
    assert (report["created"], report["failed"], report["written"]) == (4, 1, False)
    assert report["errors"][0]["line"] == 5
    assert report["errors"][0]["column"] == "SIREN"
    assert report_path.read_text().splitlines()[1].startswith("5,SIREN,")

    real = _run(tmp_path, "import", "members", str(path), "--no-atomic", "--json")
    assert json.loads(real.stdout)["created"] == 4
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM members")) == 4
        sources = connection.execute(text("SELECT DISTINCT source FROM journal_entries"))
        assert [row[0] for row in sources] == ["import"]
    engine.dispose()


def test_unknown_extension_needs_a_format(tmp_path):
    assert _run(tmp_path, "db", "upgrade").exit_code == 0
    path = tmp_path / "members.dat"
    path.write_bytes(b"name\n")
    result = _run(tmp_path, "import", "members", str(path))
    assert result.exit_code == 2
    assert "--format" in result.output


def test_cli_imports_interactions_and_names_their_owner(tmp_path):
    assert _run(tmp_path, "db", "upgrade").exit_code == 0
    rows = french_rows(1)
    members = tmp_path / "adherents.csv"
    members.write_bytes(write_csv(FRENCH_HEADERS, rows))
    assert _run(tmp_path, "import", "members", str(members)).exit_code == 0
    path = tmp_path / "echanges.csv"
    headers = ["Référence", "Nature", "Type", "Objet", "Date", "SIREN"]
    path.write_bytes(
        write_csv(
            headers, [["INT-1", "touchpoint", "call", "Appel de suivi", "15/03/2025", rows[0][2]]]
        )  # fmt: skip
    )
    result = _run(tmp_path, "import", "interactions", str(path), "--json")
    assert result.exit_code == 1  # no user runs the CLI: the owner must be named
    report = json.loads(result.output[result.output.index("{") :])
    assert [(p["line"], p["column"]) for p in report["errors"]] == [(2, "owner_email")]
