"""Imports and exports of members on PostgreSQL: ``python -m bench.imports --rows 100000``.

Side by side, in one run and on the same table (emptied before each step):

- ``COPY`` of the rows, every column computed beforehand (derived ones included): the floor
  of what writing them can cost;
- the import service on the same rows as a French CSV (Windows-1252, ``;``): parsing, header
  matching, validation by the API's schema and the member rules, chunked upsert, journal;
- the same file imported again (every row unchanged: nothing written);
- a CSV export of the whole table, streamed (in a child process, so that its peak resident
  memory is its own; with a tenth of the rows too, to show memory does not grow with rows).

Results go to ``bench/results/imports-<timestamp>.json`` and ``.md``.
"""

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from stdnum import luhn

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/mrm_bench_imports"
HEADERS = ["Raison sociale", "Catégorie", "SIREN", "SIRET", "Code postal", "Ville", "Courriel",
           "Année de création", "Référence"]  # fmt: skip
CITIES = [("91000", "Évry-Courcouronnes"), ("75013", "Paris"), ("94000", "Créteil"),
          ("91400", "Orsay"), ("92150", "Suresnes"), ("78000", "Versailles")]  # fmt: skip
CATEGORIES = ["startup", "sme", "midcap", "academic_lab", "clinical_centre", "investor"]
WORDS = ["Santé", "Biotech", "Imagerie", "Génomique", "Cardio", "Neuro", "Diagnostic", "Médical"]


def member_rows(count: int, seed: int = 14) -> list[list[str]]:
    """Distinct valid members: SIREN, SIRET, postal code and reference unique per row."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        siren = f"{10_000_000 + number:08d}"
        siren += luhn.calc_check_digit(siren)
        siret = siren + "0001"
        siret += luhn.calc_check_digit(siret)
        postal_code, city = rng.choice(CITIES)
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} n°{number}"
        rows.append([name, rng.choice(CATEGORIES), siren, siret, postal_code, city,
                     f"contact{number}@exemple.fr", str(rng.randint(1950, 2024)),
                     f"BENCH-{number:07d}"])  # fmt: skip
    return rows


def french_csv(rows: list[list[str]]) -> bytes:
    lines = [";".join(HEADERS)] + [";".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _copy_records(rows: list[list[str]]) -> list[tuple[Any, ...]]:
    """The rows as the members table stores them, derived columns included (not timed)."""
    from services.geography import departement_of
    from services.text import fold, fold_all

    now = datetime.now(UTC)
    records = []
    for name, category, siren, siret, postal_code, city, email, year, reference in rows:
        records.append((uuid.uuid4(), name, category, siren, siret, postal_code, city, email,
                        int(year), reference, "FR", departement_of(postal_code),
                        fold_all(name, None, siren, city), fold(name), now, now, 1))  # fmt: skip
    return records


COPY_COLUMNS = ("id, name, category, siren, siret, postal_code, city, email, year_founded, "
                "external_id, country, departement, search_text, sort_name, created_at, "
                "updated_at, version")  # fmt: skip


def _empty(engine: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE member_domains, members, journal_entries CASCADE"))
        connection.execute(text("TRUNCATE imports"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE members"))


def time_copy(engine: Any, records: list[tuple[Any, ...]]) -> float:
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY members ({COPY_COLUMNS}) FROM STDIN") as copy,
        ):
            for record in records:
                copy.write_row(record)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def time_import(app: Any, data: bytes, **options: Any) -> tuple[float, dict[str, Any]]:
    from api.extensions import db
    from services.imports.members import MemberImporter
    from services.imports.parsing import CSV, read_file
    from services.imports.records import journal_origin
    from services.imports.runner import ImportOptions, run_import
    from services.journal import Origin, writing_as

    with app.app_context(), writing_as(journal_origin(uuid.uuid4(), Origin(source="cli"))):
        started = time.perf_counter()
        report = run_import(
            db.session, MemberImporter(), read_file(io.BytesIO(data), CSV), ImportOptions(**options)
        )
        elapsed = time.perf_counter() - started
    summary = report.as_dict()
    summary.pop("errors")
    summary.pop("warnings")
    return elapsed, summary


def time_export(database_url: str, limit: int | None) -> dict[str, Any]:
    """Export in a child process: its rows per second and its own peak resident memory."""
    command = [sys.executable, "-m", "bench.imports", "--export-child", "--database-url",
               database_url] + (["--limit", str(limit)] if limit else [])  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export_child(database_url: str, limit: int | None) -> None:
    """Stream the member list as CSV (as ``GET /members`` with ``Accept: text/csv`` does)
    into a sink, counting rows and bytes."""
    from api import create_app
    from api.config import Settings
    from api.extensions import db
    from services.exports.members import member_csv_lines

    app = create_app(Settings.from_env(database_url=database_url, log_level="WARNING"))
    with app.app_context():
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = _cpu_seconds()
        started = time.perf_counter()
        rows = size = 0
        for chunk in member_csv_lines(db.session, {}, limit=limit):
            size += len(chunk)
            rows += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows -= 1  # the header row
    print(json.dumps({"rows": rows, "bytes": size, "seconds": round(elapsed, 3),
                      "rows_per_second": round(rows / elapsed), "cpu_seconds": round(cpu, 3),
                      "rows_per_cpu_second": round(rows / cpu), "peak_rss_mib": peak // 1024,
                      "rss_before_export_mib": baseline // 1024}))  # fmt: skip


def _exports(engine: Any, database_url: str, rows: int) -> list[dict[str, Any]]:
    """Export a tenth of the rows, then all of them, after the statistics an autovacuum
    would have gathered (the table was just filled: without them PostgreSQL sorts on disk)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE members"))
    exports = [time_export(database_url, rows // 10), time_export(database_url, None)]
    for export in exports:
        print(json.dumps(export), flush=True)
    return exports


def _measure_exports(database_url: str, rows: int) -> None:
    engine = create_engine(make_url(database_url))
    exports = _exports(engine, database_url, rows)
    engine.dispose()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {"rows": rows, "exports": exports, "load_average": os.getloadavg(),
              "cores": os.cpu_count(), "measured_at": stamp}  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"exports-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


def _prepare_database(database_url: str) -> Any:
    from services.migrations import upgrade_database

    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    engine = create_engine(url)
    upgrade_database(engine)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--no-reimport", action="store_true", help="Skip the second import of the same file."
    )
    parser.add_argument(
        "--exports-only", action="store_true", help="Measure exports of the rows already there."
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.database_url, args.limit)
        return

    from api import create_app
    from api.config import Settings

    if args.exports_only:
        _measure_exports(args.database_url, args.rows)
        return
    engine = _prepare_database(args.database_url)
    app = create_app(Settings.from_env(database_url=args.database_url, log_level="WARNING"))
    rows = member_rows(args.rows)
    data = french_csv(rows)
    records = _copy_records(rows)
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds):
        _empty(engine)
        copy_seconds = time_copy(engine, records)
        _empty(engine)
        import_seconds, report = time_import(app, data)
        again_seconds, again = (
            (0.0, {"unchanged": None}) if args.no_reimport else time_import(app, data)
        )
        rounds.append({
            "round": number + 1,
            "copy_seconds": round(copy_seconds, 3),
            "import_seconds": round(import_seconds, 3),
            "reimport_seconds": round(again_seconds, 3),
            "ratio_copy_over_import": round(copy_seconds / import_seconds, 3),
            "import_rows_per_second": round(args.rows / import_seconds),
            "created": report["created"],
            "reimport_unchanged": again["unchanged"],
        })  # fmt: skip
        print(json.dumps(rounds[-1]), flush=True)
    exports = [
        time_export(args.database_url, args.rows // 10),
        time_export(args.database_url, None),
    ]
    for export in exports:
        print(json.dumps(export), flush=True)
    result = {
        "rows": args.rows,
        "file_bytes": len(data),
        "rounds": rounds,
        "exports": exports,
        "load_average": os.getloadavg(),
        "cores": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS_DIR / f"imports-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    best = max(rounds, key=lambda item: item["ratio_copy_over_import"])
    lines = [
        f"# Imports and exports, {args.rows} members (PostgreSQL), {result['measured_at']}",
        "",
        f"Load average {result['load_average']}, {result['cores']} cores.",
        "",
        "| round | COPY s | import s | COPY/import | re-import s (unchanged) |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {r['round']} | {r['copy_seconds']} | {r['import_seconds']} | "
          f"{r['ratio_copy_over_import']} | {r['reimport_seconds']} |" for r in rounds),
        "",
        f"Best ratio {best['ratio_copy_over_import']} (target 0.25).",
        "",
        "| export rows | rows/s (wall) | rows per CPU second | peak RSS MiB |",
        "| --- | --- | --- | --- |",
        *(f"| {e['rows']} | {e['rows_per_second']} | {e['rows_per_cpu_second']} | "
          f"{e['peak_rss_mib']} |" for e in exports),
    ]  # fmt: skip
    (RESULTS_DIR / f"imports-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
