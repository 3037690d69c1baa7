"""The Okta client against the simulator: users in every status over 3 Link pages, the simulator's
Okta semantics (plain listing without DEPROVISIONED, search/filter), auth (SSWS, private_key_jwt verified
by the simulator, a token without rights), secrets never in an error."""
from __future__ import annotations

import pytest
import requests

from pipelines.okta.client import (ApiTokenAuth, OktaAuthError, OktaClient, OktaEmptyDirectoryError, OktaError,
                                   PrivateKeyJwtAuth)
from pipelines.okta.source import OktaConfig, okta_source
from tests.okta.conftest import CLIENT_ID


def all_rows(pages):
    return [r for p in pages for r in p]


def get(sim, path, token, **params):
    return requests.get(sim.org_url + path, params=params, headers={"Authorization": f"SSWS {token}"}, timeout=10)


def test_users_in_every_status_over_three_link_pages(sim, fx):
    c = OktaClient(sim.org_url, ApiTokenAuth(fx["api_token"]))
    users = all_rows(c.list_users())
    assert sorted(u["id"] for u in users) == sorted(u["id"] for u in fx["users"])
    assert {u["status"] for u in users} == {"STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED",
                                             "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"}
    st = sim.stats()
    assert st["by_path"]["GET /api/v1/users"] == 3  # 12 users, at most 5 a page: 5 + 5 + 2
    assert st["limits"] == [5, 5, 5]  # asked for 200, the org serves at most 5


def test_plain_listing_omits_deprovisioned_search_and_filter_include_them(sim, fx):
    tok = fx["api_token"]
    deprov = {u["id"] for u in fx["users"] if u["status"] == "DEPROVISIONED"}
    assert len(deprov) == 3

    def ids(**params):
        out, url = [], sim.org_url + "/api/v1/users"
        while url:
            r = requests.get(url, params=params if url.endswith("/users") else None,
                             headers={"Authorization": f"SSWS {tok}"}, timeout=10)
            assert r.status_code == 200, r.text
            out += [u["id"] for u in r.json()]
            url = r.links.get("next", {}).get("url")
        return set(out)

    everyone = {u["id"] for u in fx["users"]}
    assert ids() == everyone - deprov
    assert ids(q="ada") == {"00u01ada"}  # `q` omits DEPROVISIONED too (00u10ada)
    assert ids(search="status pr") == everyone
    statuses = " or ".join(f'status eq "{s}"' for s in ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY",
                                                         "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"))
    assert ids(filter=statuses) == everyone
    assert ids(filter='status eq "DEPROVISIONED"') == deprov
    assert ids(search='profile.email eq "ada.lovelace@lab.org"') == {"00u01ada"}  # case-insensitive
    assert ids(filter='lastUpdated gt "2026-09-01T00:00:00.000Z" and status eq "SUSPENDED"') == {"00u07gus"}
    assert ids(search='profile.lastName sw "Lo"') == {"00u01ada", "00u10ada", "00u06fay"}
    r = get(sim, "/api/v1/users", tok, filter='profile.lastName sw "Lo"')  # sw is search-only
    assert r.status_code == 400 and r.json()["errorCode"] == "E0000031"


def test_groups_members_apps_and_assignments(sim, fx):
    c = OktaClient(sim.org_url, ApiTokenAuth(fx["api_token"]))
    groups = all_rows(c.list_groups())
    assert [g["profile"]["name"] for g in groups] == ["Everyone", "Lab", "Empty"]
    assert {u["id"] for u in all_rows(c.list_group_members("00g2lab"))} == {"00u01ada", "00u07gus", "00u08hal", "00u09ivy"}
    assert all_rows(c.list_group_members("00g3empty")) == []
    apps = all_rows(c.list_apps())
    assert [a["label"] for a in apps] == ["Benchling", "Paradime", "Old wiki"]
    bench = all_rows(c.list_app_users("0oa1bench"))
    assert {(a["id"], a["scope"]) for a in bench} == {("00u01ada", "GROUP"), ("00u07gus", "GROUP"), ("00u08hal", "GROUP"),
                                                      ("00u09ivy", "GROUP"), ("00u02bob", "USER")}
    assert sim.stats()["by_path"]["GET /api/v1/apps/:id/users"] == 3  # 5 assignments, 2 a page
    with pytest.raises(OktaError, match="HTTP 404"):
        all_rows(c.list_group_members("00gnope"))


def test_deleted_user_vanishes_only_after_deactivation(sim, fx):
    tok = fx["api_token"]
    h = {"Authorization": f"SSWS {tok}"}
    assert requests.delete(f"{sim.org_url}/api/v1/users/00u12kim", headers=h, timeout=10).status_code == 204
    assert get(sim, "/api/v1/users/00u12kim", tok).json()["status"] == "DEPROVISIONED"  # first DELETE deactivates
    assert requests.delete(f"{sim.org_url}/api/v1/users/00u12kim", headers=h, timeout=10).status_code == 204
    assert get(sim, "/api/v1/users/00u12kim", tok).status_code == 404
    c = OktaClient(sim.org_url, ApiTokenAuth(tok))
    assert "00u12kim" not in {u["id"] for u in all_rows(c.list_users())}
    assert "00u12kim" not in {u["id"] for u in all_rows(c.list_group_members("00g1every"))}


def test_private_key_jwt_is_verified_by_the_simulator(sim, fx, keys):
    c = OktaClient(sim.org_url, PrivateKeyJwtAuth(CLIENT_ID, keys["private"], key_id="k1"))
    assert len(all_rows(c.list_users())) == len(fx["users"])
    assert sim.stats()["assertions_verified"] == 1  # one token, reused for every page
    assert sim.stats()["by_path"]["POST /oauth2/v1/token"] == 1
    # signed with another key: the simulator rejects the assertion
    bad = OktaClient(sim.org_url, PrivateKeyJwtAuth(CLIENT_ID, keys["other_private"]))
    with pytest.raises(OktaAuthError) as e:
        all_rows(bad.list_users())
    assert "signature is invalid" in str(e.value) and "BEGIN" not in str(e.value)
    # an assertion is good once (jti)
    auth = PrivateKeyJwtAuth(CLIENT_ID, keys["private"])
    assertion = auth.assertion(sim.org_url + "/oauth2/v1/token")
    form = {"grant_type": "client_credentials", "scope": "okta.users.read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion}
    assert requests.post(sim.org_url + "/oauth2/v1/token", data=form, timeout=10).status_code == 200
    again = requests.post(sim.org_url + "/oauth2/v1/token", data=form, timeout=10)
    assert again.status_code == 401 and "already been used" in again.json()["error_description"]
    # an app not granted okta.groups.read cannot ask for it
    weak = OktaClient(sim.org_url, PrivateKeyJwtAuth("0oa-no-scopes", keys["private"]))
    with pytest.raises(OktaAuthError, match="not allowed: okta.groups.read okta.apps.read"):
        all_rows(weak.list_users())


def test_ssws_wrong_token_is_refused_and_never_printed(sim):
    secret = "00wrong-token-that-must-never-print"
    c = OktaClient(sim.org_url, ApiTokenAuth(secret))
    with pytest.raises(OktaAuthError) as e:
        all_rows(c.list_users())
    assert "refused the credentials (HTTP 401: Invalid token provided)" in str(e.value)
    assert secret not in str(e.value) and secret not in repr(c)


def test_token_without_rights_gets_an_empty_listing_and_the_sync_fails_in_one_line(sim, fx, tmp_path):
    import dlt

    weak = fx["api_tokens_without_rights"][0]
    assert get(sim, "/api/v1/users", weak, search="status pr").json() == []  # 200 and [] as Okta does
    p = dlt.pipeline(pipeline_name="okta_weak", destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
                     dataset_name="okta_raw", pipelines_dir=str(tmp_path / "p"))
    with pytest.raises(Exception) as e:
        p.run(okta_source(OktaConfig(sim.org_url, api_token=weak).client()))
    from pipelines.errors import explain

    msg, code = explain(e.value)
    assert code == 1 and "\n" not in msg and weak not in msg
    assert msg.startswith(f"Okta list users: {sim.org_url} returned no users at all")
    assert "admin role" in msg
    assert not (tmp_path / "w.duckdb").exists() or not _has_users(tmp_path)


def _has_users(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return bool(con.execute("select count(*) from information_schema.tables where table_schema='okta_raw' "
                                "and table_name='users'").fetchone()[0])
    finally:
        con.close()


def test_plain_http_to_a_remote_org_is_refused_and_next_links_stay_in_the_org(sim, fx):
    with pytest.raises(ValueError, match="refusing to send the Okta credentials over plain http"):
        OktaClient("http://acme.okta.com", ApiTokenAuth("t"))
    with pytest.raises(ValueError, match="has a path"):
        OktaClient("https://acme.okta.com/api/v1", ApiTokenAuth("t"))
    assert OktaEmptyDirectoryError.__mro__[1] is OktaError
