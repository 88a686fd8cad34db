"""The benchmark harness at a tiny scale, so that it cannot rot (no timings asserted)."""

import pytest

pytest.importorskip(
    "faker", reason="the benchmark needs the bench extra: pip install -e '.[bench]'"
)
pytest.importorskip("pyinstrument", reason="the benchmark needs the bench extra")

from stdnum.fr import siren, siret  # noqa: E402

from bench.generate import create_bench_users, generate, valid_siren, valid_siret  # noqa: E402
from bench.loadgen import parse_wrk_output  # noqa: E402
from bench.profile import run_profile  # noqa: E402
from bench.run import SCENARIOS  # noqa: E402


def test_generator_and_in_process_profile_produce_results(app, client, session, tmp_path):
    report = generate(session, members=50, contacts=100, seed=7)
    assert (report.members, report.contacts) == (50, 100)
    assert report.affiliations >= 100
    create_bench_users(session)
    session.commit()

    result = run_profile(
        app,
        client,
        session,
        iterations=2,
        scenarios=list(SCENARIOS),
        profile_iterations=2,
        output_stem=tmp_path / "profile",
    )

    assert set(result["timings"]) == {scenario.name for scenario in SCENARIOS}
    assert all(timing["median_us"] > 0 for timing in result["timings"].values())
    assert (tmp_path / "profile.html").exists()
    assert (tmp_path / "profile.txt").read_text()


def test_generated_rows_are_found_by_the_application(client, session, admin_headers):
    """search_text and sort_name are folded as the services fold them."""
    generate(session, members=30, contacts=10, seed=3)
    session.commit()
    listing = client.get("/api/v1/members?limit=200&q=SANTÉ", headers=admin_headers)
    assert listing.status_code == 200, listing.get_json()
    names = [member["name"].casefold() for member in listing.get_json()["data"]]
    assert names
    assert all("santé" in name or "sante" in name for name in names)


def test_identifiers_are_valid():
    assert siren.is_valid(valid_siren(12345678))
    assert siret.is_valid(valid_siret(valid_siren(12345678), 12))


def test_wrk_output_is_parsed():
    output = (
        'Running 1s test\nWRK_JSON {"requests": 10, "duration_us": 2000000, "bytes": 5, '
        '"non2xx": 1, "errors": {"connect": 0, "read": 2, "write": 0, "status": 1, '
        '"timeout": 0}, "latency_us": {"p50": 1500, "p90": 2000, "p99": 3000, "max": 4000, '
        '"mean": 1600.0}}\n'
    )
    result = parse_wrk_output(output)
    assert result.rps == 5
    assert result.failed == 3  # one non-2xx response and two read errors
    assert result.p99_ms == 3
