"""The generator's interactions are what the application expects (folded search, links)."""

import pytest

pytest.importorskip("faker", reason="the generator needs the bench extra")

from bench.generate import (  # noqa: E402
    INTERACTION_YEARS,
    INTERACTIONS_PER_MEMBER_YEAR,
    generate,
)


def test_generated_interactions_are_found_and_timelines_read(client, session, admin_headers):
    report = generate(session, members=20, contacts=40, seed=5)
    session.commit()
    per_member = INTERACTIONS_PER_MEMBER_YEAR * INTERACTION_YEARS
    assert 20 * per_member // 2 <= report.interactions <= 20 * per_member * 3 // 2

    listing = client.get(
        "/api/v1/interactions",
        query_string={"q": "REUNION", "include_total": "true", "limit": 200},
        headers=admin_headers,
    )
    assert listing.status_code == 200, listing.get_json()
    body = listing.get_json()
    assert body["total"] > 0
    assert all(
        "reunion" in (item["subject"] + (item["notes"] or "")).lower().replace("é", "e")
        for item in body["data"]
    )

    member_id = report.member_ids[0]
    timeline = client.get(f"/api/v1/members/{member_id}/timeline", headers=admin_headers)
    assert timeline.status_code == 200
    kinds = {item["kind"] for item in timeline.get_json()["data"]}
    assert "interaction" in kinds
