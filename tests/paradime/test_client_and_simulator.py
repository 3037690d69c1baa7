"""Paradime client error paths and simulator behaviour (GraphQL schema, auth, mutations)."""
from __future__ import annotations

import time
import logging

import pytest
import requests

from pipelines.paradime.client import ParadimeAuthError, ParadimeClient, ParadimeError
from pipelines.paradime.simulator import ACCOUNT_TYPES, SCHEMA_SDL


def client(sim, fx, ws="data-platform", **kw):
    kw.setdefault("api_key", fx["api_key"])
    kw.setdefault("api_secret", fx["api_secret"])
    return ParadimeClient(sim.endpoint_for(ws), name=ws, **{"backoff": 0.01, **kw})


def secrets_of(sim, fx):
    return [fx["api_key"], fx["api_secret"], fx["bearer_token"], sim.endpoint_for("data-platform"),
            sim.workspace("data-platform").uid]


def test_schema_has_nine_account_types():
    assert len(ACCOUNT_TYPES) == 9
    assert "enum UserAccountType" in SCHEMA_SDL


def test_list_users_hides_disabled(sim, fx):
    active, invited = client(sim, fx).list_users()
    emails = {u["email"] for u in active}
    assert "gone@acme.io" not in emails and "alexandra@acme.io" in emails
    assert all(set(u) == {"uid", "email", "name", "accountType"} for u in active)
    assert {i["inviteStatus"] for i in invited} == {"EXPIRED", "ACTIVE"}


def test_list_workspaces(sim, fx):
    assert {w["name"] for w in client(sim, fx).list_workspaces()} == {"data-platform", "analytics"}


def test_bearer_tokens(sim, fx):
    c = ParadimeClient(sim.endpoint_for("analytics"), bearer_token=fx["bearer_token"], name="analytics")
    assert len(c.list_users()[0]) == len(next(w for w in fx["workspaces"] if w.name == "analytics").visible_active_users())
    sim.bearer_token = "prdm_cmp_company"
    uid = sim.workspace("analytics").uid
    ok = ParadimeClient(sim.endpoint_for("analytics"), bearer_token="prdm_cmp_company",
                        workspace_uid=uid, name="analytics")
    assert ok.list_users()
    no_ws = ParadimeClient(sim.endpoint_for("analytics"), bearer_token="prdm_cmp_company",
                           name="analytics", max_retries=0)
    with pytest.raises(ParadimeAuthError):
        no_ws.list_users()


def test_mutations_change_the_workspace(sim, fx):
    c = client(sim, fx)
    active, _ = c.list_users()
    matt = next(u for u in active if u["email"] == "matt@acme.io")
    c.update_user_account_type(matt["uid"], "ANALYST")
    c.invite_user("new@acme.io", "BUSINESS")
    c.disable_user(matt["uid"])
    active, invited = c.list_users()
    assert "matt@acme.io" not in {u["email"] for u in active}
    assert {"email": "new@acme.io", "accountType": "BUSINESS", "inviteStatus": "SENT"} in invited
    # a second disable of the same user: ok false -> clear error
    with pytest.raises(ParadimeError, match="disableUser returned ok: false"):
        c.disable_user(matt["uid"])


def test_enum_is_validated_by_graphql(sim, fx):
    with pytest.raises(ParadimeError, match="GraphQL error: .*NOT_A_ROLE"):
        client(sim, fx).invite_user("x@acme.io", "NOT_A_ROLE")


def test_graphql_errors_and_ok_false(sim, fx):
    sim.set_failure("data-platform", "errors")
    with pytest.raises(ParadimeError, match=r"workspace 'data-platform': GraphQL error: Simulated failure"):
        client(sim, fx).list_users()
    sim.set_failure("data-platform", "ok_false")
    with pytest.raises(ParadimeError, match="workspace 'data-platform': listUsers returned ok: false"):
        client(sim, fx).list_users()


@pytest.mark.parametrize("key,secret", [("wrong", None), (None, "wrong")])
def test_wrong_credentials(sim, fx, key, secret, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(sim, fx, api_key=key or fx["api_key"], api_secret=secret or fx["api_secret"])
    with pytest.raises(ParadimeAuthError) as ei:
        c.list_users()
    text = str(ei.value) + repr(ei.value) + caplog.text
    assert "refused the credentials (HTTP 401)" in str(ei.value)
    assert "data-platform" in str(ei.value)
    for s in secrets_of(sim, fx):
        assert s not in text
    assert ei.value.__cause__ is None


def test_unreachable_host_is_clear_and_secret_free(fx, caplog):
    caplog.set_level(logging.DEBUG)
    s = socket_free_port()
    endpoint = f"http://127.0.0.1:{s}/api/v1/zzzzsecretzzzzzz/graphql"
    c = ParadimeClient(endpoint, api_key=fx["api_key"], api_secret=fx["api_secret"], name="ws",
                       max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(ParadimeError) as ei:
        c.list_users()
    msg = str(ei.value)
    assert "cannot connect" in msg and "gave up after 2 tries" in msg
    for secret in (endpoint, "zzzzsecretzzzzzz", fx["api_key"], fx["api_secret"], str(s)):
        assert secret not in msg
    assert "zzzzsecretzzzzzz" not in caplog.text
    assert ei.value.__cause__ is None and ei.value.__suppress_context__


def test_retries_on_503_and_429_then_succeeds(sim, fx):
    sim.fail_next(2, 503)
    sim.fail_next(1, 429)
    c = client(sim, fx)
    assert c.list_users()[0]
    assert c.requests_made == 4


def test_retries_are_bounded(sim, fx):
    sim.fail_next(10, 500)
    c = client(sim, fx, max_retries=2)
    with pytest.raises(ParadimeError, match="HTTP 500 .gave up after 3 tries"):
        c.list_users()
    assert c.requests_made == 3


def test_simulator_accepts_post_only_and_per_workspace_paths(sim, fx):
    url = sim.endpoint_for("data-platform")
    assert requests.get(url, timeout=5).status_code == 405
    bad = url.replace(sim.workspace("data-platform").uid, "0000000000000000")
    r = requests.post(bad, json={"query": "{ listUsers { ok } }"}, timeout=5,
                      headers={"X-API-KEY": fx["api_key"], "X-API-SECRET": fx["api_secret"]})
    assert r.status_code == 404
    assert sim.stats()["requests"] == 1  # GET is refused before counting


def socket_free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_retries_are_bounded_in_time_too(sim, fx):
    """Many tries allowed, little time: the shared policy gives up when the next wait would end past
    max_retry_seconds, long before the tries run out."""
    sim.fail_next(1000, 503)
    c = client(sim, fx, max_retries=1000, max_retry_seconds=1.0, backoff=0.2, max_backoff=0.4)
    t0 = time.monotonic()
    with pytest.raises(ParadimeError, match=r"HTTP 503 \(gave up after \d+ tries in [01]s\)"):
        c.list_users()
    assert time.monotonic() - t0 < 1.5 and 2 <= c.requests_made < 10
