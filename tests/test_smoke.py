from tests.factories import make_user


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def test_users_list(client, admin_headers, session):
    make_user(session)
    response = client.get("/api/v1/users", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["data"]) == 2


def test_query_counter_sees_list_queries(client, admin_headers, count_queries):
    with count_queries() as statements:
        client.get("/api/v1/users", headers=admin_headers)
    assert 1 <= len(statements) <= 4
