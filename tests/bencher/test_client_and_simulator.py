"""Bencher simulator (paging, auth, errors, writes) and client error paths."""
from __future__ import annotations

import time
import logging
import socket

import pytest
import requests

from pipelines.bencher.client import BencherAuthError, BencherClient, BencherError, BencherNotFoundError
from pipelines.bencher.source import BencherConfig, ConfigError, bencher_config_from_env


def get(sim, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(sim.base_url + path, headers=headers, params=params, timeout=5)


def big_lab(fx):
    return next(o for o in fx["organizations"] if o["slug"] == "big-lab")


def test_paging_and_total_count(sim, fx):
    tok = fx["token"]
    total = len(big_lab(fx)["_members"])
    assert 255 < total < 2 * 255  # two pages of 255
    r = get(sim, "/v0/organizations/big-lab/members", tok, per_page=255, page=1)
    assert r.status_code == 200 and r.headers["x-total-count"] == str(total) and len(r.json()) == 255
    r2 = get(sim, "/v0/organizations/big-lab/members", tok, per_page=255, page=2)
    assert len(r2.json()) == total - 255
    names = [(m["name"], m["slug"]) for m in r.json() + r2.json()]
    assert names == sorted(names)
    assert set(r.json()[0]) == {"uuid", "name", "slug", "email", "role", "created", "modified"}
    assert r.json()[0]["created"].endswith("Z")
    # default per_page is 8; page 0 == page 1
    assert len(get(sim, "/v0/organizations/big-lab/members", tok).json()) == 8
    assert get(sim, "/v0/organizations/big-lab/members", tok, page=0).json() == \
        get(sim, "/v0/organizations/big-lab/members", tok, page=1).json()
    desc = get(sim, "/v0/organizations/big-lab/members", tok, direction="desc", per_page=3).json()
    assert [m["name"] for m in desc] == sorted([n for n, _ in names], reverse=True)[:3]


def test_per_page_over_255_is_400(sim, fx):
    r = get(sim, "/v0/organizations/big-lab/members", fx["token"], per_page=256)
    assert r.status_code == 400 and set(r.json()) >= {"request_id", "message"}
    assert get(sim, "/v0/organizations", fx["token"], sort="created").status_code == 400


def test_filters_and_org_by_uuid(sim, fx):
    tok = fx["token"]
    cloud = next(o for o in fx["organizations"] if o["slug"] == "cloud-org")
    r = get(sim, f"/v0/organizations/{cloud['uuid']}/members", tok, name="Ada Lovelace")
    assert [m["email"] for m in r.json()] == ["ada@example.com"]
    r = get(sim, "/v0/organizations/cloud-org/members", tok, search="orsted")
    assert [m["slug"] for m in r.json()] == ["zoe-orsted"]


def test_auth_and_visibility_errors(sim, fx):
    assert get(sim, "/v0/organizations").status_code == 400
    assert get(sim, "/v0/organizations", "wrong").status_code == 401
    assert get(sim, "/v0/organizations/hidden-org/members", fx["token"]).status_code == 404
    assert get(sim, "/v0/organizations/nope/members", fx["token"]).status_code == 404
    slugs = [o["slug"] for o in get(sim, "/v0/organizations", fx["token"], per_page=255).json()]
    assert slugs == ["big-lab", "cloud-org", "empty-org"]
    assert "license" in get(sim, "/v0/organizations/cloud-org", fx["token"]).json()


def test_invite_accept_patch_delete(sim, fx):
    c = BencherClient(sim.base_url, fx["token"])
    assert c.invite_member("cloud-org", "new@example.com", name="Nü Member") == {"email": "new@example.com"}
    emails = lambda: {m["email"] for p in c.list_members("cloud-org") for m in p}  # noqa: E731
    assert "new@example.com" not in emails()  # not a member until accepted
    r = requests.post(sim.base_url + "/_simulator/accept", json={"organization": "cloud-org",
                                                                 "email": "new@example.com"}, timeout=5)
    assert r.status_code == 200 and r.json()["name"] == "Nü Member"
    assert "new@example.com" in emails()
    m = c.update_member("cloud-org", "zoe-orsted", "leader")
    assert m["role"] == "leader"
    c.remove_member("cloud-org", "zoe-orsted")
    assert "zoe@example.com" not in emails()
    with pytest.raises(BencherError, match="HTTP 400: Invalid email"):
        c.invite_member("cloud-org", "not-an-email")
    assert requests.get(sim.base_url + "/_simulator/stats", timeout=5).json()["requests"] > 0


def test_client_reads_all_pages_with_per_page_255(sim, fx):
    c = BencherClient(sim.base_url, fx["token"])
    rows = [m for p in c.list_members("big-lab") for m in p]
    total = len(big_lab(fx)["_members"])
    assert len(rows) == total and len({m["uuid"] for m in rows}) == total
    assert c.requests_made == -(-total // 255)
    assert set(sim.stats()["per_page"]) == {255}


@pytest.mark.parametrize("token,exc,text", [
    ("", BencherAuthError, "no API token"),
    ("bad-token-value-123", BencherAuthError, r"refused the token \(HTTP 401"),
])
def test_client_auth_errors(sim, token, exc, text, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(exc, match=text) as ei:
        list(BencherClient(sim.base_url, token).list_organizations())
    if token:
        assert token not in str(ei.value) and token not in caplog.text


def test_client_400_without_token(sim):
    class NoAuth(requests.Session):
        def request(self, method, url, headers=None, **kw):
            headers = {k: v for k, v in (headers or {}).items() if k != "Authorization"}
            return super().request(method, url, headers=headers, **kw)

    with pytest.raises(BencherAuthError, match="HTTP 400: Missing Authorization header"):
        list(BencherClient(sim.base_url, "x", session=NoAuth()).list_organizations())


def test_client_404_names_org(sim, fx):
    with pytest.raises(BencherNotFoundError, match="organization 'hidden-org': not found, or not visible"):
        list(BencherClient(sim.base_url, fx["token"]).list_members("hidden-org"))


def test_retries_bounded(sim, fx):
    sim.fail_next(2, 429)
    c = BencherClient(sim.base_url, fx["token"], backoff=0.01)
    assert len([o for p in c.list_organizations() for o in p]) == sum(o.get("_visible", True) for o in fx["organizations"])
    sim.fail_next(5, 503)
    c = BencherClient(sim.base_url, fx["token"], backoff=0.01, max_retries=2)
    with pytest.raises(BencherError, match="HTTP 503.*gave up after 3 tries"):
        list(c.list_organizations())


def test_unreachable_host(fx):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = BencherClient(f"http://127.0.0.1:{port}", fx["token"], max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(BencherError, match="cannot connect to http://127.0.0.1:.*gave up after 2") as ei:
        list(c.list_organizations())
    assert fx["token"] not in str(ei.value) and ei.value.__cause__ is None


def test_config_from_env():
    with pytest.raises(ConfigError, match="BENCHER_API_TOKEN"):
        bencher_config_from_env({})
    cfg = bencher_config_from_env({"BENCHER_API_TOKEN": "tok-secret", "BENCHER_ORGANIZATIONS": "a, b"})
    assert cfg.base_url == "https://api.bencher.dev" and cfg.organizations == ["a", "b"]
    assert "tok-secret" not in repr(cfg) and "tok-secret" not in str(cfg)
    assert BencherConfig(token="t").organizations is None


def test_retries_are_bounded_in_time_too(sim, fx):
    """Many tries allowed, little time: the shared policy gives up when the next wait would end past
    max_retry_seconds, long before the tries run out."""
    sim.fail_next(1000, 503)
    c = BencherClient(sim.base_url, fx["token"], max_retries=1000, max_retry_seconds=1.0, backoff=0.2, max_backoff=0.4)
    t0 = time.monotonic()
    with pytest.raises(BencherError, match=r"HTTP 503.*\(gave up after \d+ tries in [01]s\)"):
        list(c.list_organizations())
    assert time.monotonic() - t0 < 1.5 and 2 <= c.requests_made < 10
