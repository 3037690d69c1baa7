"""Okta's own Python SDK (`okta` on PyPI) as a client of the simulator, to hold it to the real API's shapes:
the OAuth service app flow (the SDK signs its own private_key_jwt assertion, the simulator verifies it),
users in every status over Link pages (the SDK's cursor helper), groups, members, apps (each parsed into its
sign-on mode's model) and assigned users, all deserialized by the SDK's strict pydantic models.

The SDK refuses a non-https org URL unless its testing flag is set (`OKTA_TESTING_TESTINGDISABLEHTTPSCHECK`).
Its SSWS mode is not used here: okta 3.4.6 sends `Authorization: SSWS<token>` without the space on the
generated API path (configuration.auth_settings), which the simulator, like the documented scheme, refuses."""
from __future__ import annotations

import asyncio

from pipelines.okta.simulator import OktaSimulator
from tests.okta.conftest import CLIENT_ID, SCOPES


async def _read(url: str, private_key: str) -> dict:
    from okta.client import Client
    from okta.pagination import PaginationHelper

    client = Client({"orgUrl": url, "authorizationMode": "PrivateKey", "clientId": CLIENT_ID, "scopes": SCOPES,
                     "privateKey": private_key})

    async def every(method, **kw):
        out, after = [], None
        while True:
            data, resp, err = await method(after=after, **kw)
            assert err is None, err
            out += data
            after = PaginationHelper.extract_next_cursor(resp.headers)
            if not after:
                return out

    return {"users": await every(client.list_users, search="status pr", limit=200),
            "plain": await every(client.list_users, limit=200),
            "groups": await every(client.list_groups),
            "lab": await every(client.list_group_users, group_id="00g2lab"),
            "apps": await every(client.list_applications),
            "bench": await every(client.list_application_users, app_id="0oa1bench")}


def test_the_okta_sdk_reads_the_simulated_org(fx, keys, monkeypatch):
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    with OktaSimulator(fx) as sim:
        got = asyncio.run(_read(sim.org_url, keys["private"]))
        st = sim.stats()
    assert st["assertions_verified"] == 1 and st["by_path"]["POST /oauth2/v1/token"] == 1
    assert st["by_path"]["GET /api/v1/users"] == 3 + 2  # 12 users at 5 a page; the plain listing 9 (no DEPROVISIONED)
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
