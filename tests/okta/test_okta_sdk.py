"""Okta's own Python SDK (`okta` on PyPI) as a client of the simulator, to hold it to the real API's shapes:
users in every status over Link pages (the SDK's cursor helper), groups, members, apps (each parsed into its
sign-on mode's model) and assigned users, all deserialized by the SDK's strict pydantic models; signed in
both ways Okta offers: the OAuth service app (the SDK signs its own private_key_jwt assertion, the simulator
verifies it) and an API token (SSWS).

The SDK refuses a non-https org URL unless its testing flag is set (`OKTA_TESTING_TESTINGDISABLEHTTPSCHECK`).

An SDK finding (okta 3.4.6, read in its source and observed on the wire): with an API token (the default
`authorizationMode` "SSWS") the generated API methods send `Authorization: SSWS<token>` — no space.
`okta/api_client.py` passes the token as the Configuration's `access_token` and `authorization_mode`, and
`okta/configuration.py` `auth_settings()` builds the header as `self.authorization_mode + self.access_token`
(its "oauth2" entry); that header overrides the request executor's correct default `SSWS <token>`
(`request_executor.py`). Okta documents exactly one form, `Authorization: SSWS <token>` (the scheme, a space,
the token: developer.okta.com "Create an API token" and the management API's Authentication section, as
RFC 7235 defines credentials); nothing documents that an org accepts the scheme glued to the token, and no
org can be reached from here to try. So the simulator accepts the documented form only and answers the
SDK's default header 401 E0000011, as it answers any malformed credential; the SDK reads the org with an API
token through its own per-request override (`_request_auth`, a parameter of every generated method) carrying
the documented header. README "Okta" says the same."""
from __future__ import annotations

import asyncio
from typing import Any

from pipelines.okta.simulator import OktaSimulator
from tests.okta.conftest import CLIENT_ID, SCOPES


async def _every(method: Any, **kw: Any) -> list:
    from okta.pagination import PaginationHelper

    out, after = [], None
    while True:
        data, resp, err = await method(after=after, **kw)
        assert err is None, err
        out += data
        after = PaginationHelper.extract_next_cursor(resp.headers)
        if not after:
            return out


async def _read(client: Any, **kw: Any) -> dict:
    return {"users": await _every(client.list_users, search="status pr", limit=200, **kw),
            "plain": await _every(client.list_users, limit=200, **kw),
            "groups": await _every(client.list_groups, **kw),
            "lab": await _every(client.list_group_users, group_id="00g2lab", **kw),
            "apps": await _every(client.list_applications, **kw),
            "bench": await _every(client.list_application_users, app_id="0oa1bench", **kw)}


def _check(got: dict, fx: dict) -> None:
    users = {u.id: u for u in got["users"]}
    assert set(users) == {u["id"] for u in fx["users"]}
    assert {u.status.value for u in users.values()} == {"STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED",
                                                        "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"}
    assert {u.id for u in got["plain"]} == {u["id"] for u in fx["users"] if u["status"] != "DEPROVISIONED"}
    hal = users["00u08hal"]
    assert (hal.profile.email, hal.status_changed.isoformat()) == ("hal@lab.org", "2026-07-31T18:00:00+00:00")
    assert [g.profile.actual_instance.name for g in got["groups"]] == ["Everyone", "Lab", "Empty"]
    assert {u.id for u in got["lab"]} == {"00u01ada", "00u07gus", "00u08hal", "00u09ivy"}
    assert [(type(a).__name__, a.label) for a in got["apps"]] == [
        ("SamlApplication", "Benchling"), ("OpenIdConnectApplication", "Paradime"), ("BookmarkApplication", "Old wiki")]
    assert {(a.id, a.scope, a.credentials.user_name) for a in got["bench"]} == {
        ("00u01ada", "GROUP", "ada.lovelace@lab.org"), ("00u02bob", "USER", "Bob.P@lab.org"),
        ("00u07gus", "GROUP", "gus@lab.org"), ("00u08hal", "GROUP", "hal@lab.org"), ("00u09ivy", "GROUP", "ivy@lab.org")}


def test_the_okta_sdk_reads_the_simulated_org_as_a_service_app(fx, keys, monkeypatch):
    from okta.client import Client

    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    with OktaSimulator(fx) as sim:
        client = Client({"orgUrl": sim.org_url, "authorizationMode": "PrivateKey", "clientId": CLIENT_ID,
                         "scopes": SCOPES, "privateKey": keys["private"]})
        got = asyncio.run(_read(client))
        st = sim.stats()
    assert st["assertions_verified"] == 1 and st["by_path"]["POST /oauth2/v1/token"] == 1
    assert st["by_path"]["GET /api/v1/users"] == 3 + 2  # 12 users at 5 a page; the plain listing 9 (no DEPROVISIONED)
    assert st["by_status"].get("401", 0) == 0
    _check(got, fx)


def test_the_okta_sdk_reads_the_simulated_org_with_an_api_token(fx, monkeypatch):
    from okta.client import Client

    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    token = fx["api_token"]
    with OktaSimulator(fx) as sim:
        client = Client({"orgUrl": sim.org_url, "token": token})  # authorizationMode defaults to SSWS
        # what the SDK's generated methods send: its own auth settings, the scheme glued to the token
        assert client.configuration.auth_settings()["oauth2"]["value"] == f"SSWS{token}"
        data, resp, err = asyncio.run(client.list_users(limit=200))
        assert (data, resp.status) == (None, 401) and "E0000011" in str(err)  # not the documented form: refused
        # the documented header, through the SDK's per-request auth override
        documented = {"in": "header", "type": "api_key", "key": "Authorization", "value": f"SSWS {token}"}
        got = asyncio.run(_read(client, _request_auth=documented))
        st = sim.stats()
    assert st["by_status"]["401"] == 1 and st["by_path"].get("POST /oauth2/v1/token", 0) == 0
    assert st["by_path"]["GET /api/v1/users"] == 1 + 3 + 2  # the refused call, then the same pages as OAuth
    _check(got, fx)
