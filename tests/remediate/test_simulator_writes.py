"""The write endpoints remediation uses, on the three simulators: Benchling's driven by benchling-sdk (its
generated client holds them to the OpenAPI spec), Paradime's mutations, Bencher's member PATCH/DELETE, and
the simulators' request counts."""
from __future__ import annotations

import requests
from benchling_api_client.v2.stable.models.membership_update import MembershipUpdate
from benchling_api_client.v2.stable.models.membership_update_role import MembershipUpdateRole
from benchling_api_client.v2.stable.models.user_bulk_update import UserBulkUpdate
from benchling_api_client.v2.stable.models.user_update import UserUpdate
from benchling_sdk.auth.api_key_auth import ApiKeyAuth
from benchling_sdk.benchling import Benchling
from benchling_sdk.errors import BenchlingError
from benchling_sdk.models import AsyncTaskStatus

from pipelines.bencher.simulator import BencherSimulator
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.paradime.client import ParadimeClient, ParadimeOperationError
from pipelines.paradime.simulator import ParadimeSimulator, generate_workspaces

from .world import lab_org

ADMIN = "sk_admin_0123456789"


def test_benchling_writes_through_the_sdk():
    tenant = generate_tenant(seed=3, users=20, apps=1, teams=3, projects=1, folders=1)
    with BenchlingSimulator(tenant, rate_limit="off", admin_api_key=ADMIN, task_polls=2) as sim:
        b = Benchling(url=sim.root_url, auth_method=ApiKeyAuth(ADMIN), retry_strategy=None)
        users = [u for u in tenant.users if not u["isSuspended"]][:3]
        u = b.users.update(users[0]["id"], UserUpdate(is_suspended=True))
        assert u.is_suspended is True and sim.tenant.users[tenant.users.index(users[0])]["isSuspended"] is True

        link = b.users.bulk_update([UserBulkUpdate(id=x["id"], is_suspended=True) for x in users[1:]])
        task = b.tasks.wait_for_task(link.task_id, interval_wait_seconds=0, max_wait_seconds=5)
        assert task.status == AsyncTaskStatus.SUCCEEDED
        assert all(x["isSuspended"] for x in users[1:])

        sim.reject_user_updates[users[0]["id"]] = "User is the last admin of the tenant."
        link = b.users.bulk_update([UserBulkUpdate(id=users[2]["id"], is_suspended=False),
                                    UserBulkUpdate(id=users[0]["id"], is_suspended=False)])
        task = b.tasks.wait_for_task(link.task_id, interval_wait_seconds=0, max_wait_seconds=5)
        assert task.status == AsyncTaskStatus.FAILED
        assert [e.to_dict() for e in task.errors] == [{"index": 1, "message": "User is the last admin of the tenant."}]
        assert users[2]["isSuspended"] is True  # all or nothing (the simulator's documented assumption)

        m = next(m for m in tenant.memberships if m["user"]["id"].startswith("ent_"))
        other = "ADMIN" if m["role"] == "MEMBER" else "MEMBER"
        got = b.teams.update_membership(m["teamId"], m["user"]["id"], MembershipUpdate(role=MembershipUpdateRole(other)))
        assert got.role.value == other
        b.teams.delete_membership(m["teamId"], m["user"]["id"])
        assert m not in sim.tenant.memberships

        by_path = sim.stats()["by_path"]
        assert by_path["PATCH /api/v2/users/{user_id}"] == 1
        assert by_path["POST /api/v2/users:bulk-update"] == 2
        assert by_path["GET /api/v2/tasks/{task_id}"] == 6  # two RUNNING answers, then the outcome, per task
        assert by_path["PATCH /api/v2/teams/{team_id}/memberships/{user_id}"] == 1
        assert by_path["DELETE /api/v2/teams/{team_id}/memberships/{user_id}"] == 1

        # the read key may read but not manage users (403), an unknown key nothing (401)
        reader = Benchling(url=sim.root_url, auth_method=ApiKeyAuth(DEMO_API_KEY), retry_strategy=None)
        assert reader.users.get_by_id(users[1]["id"]).is_suspended is True
        for key, status in ((DEMO_API_KEY, 403), ("sk_wrong", 401)):
            try:
                Benchling(url=sim.root_url, auth_method=ApiKeyAuth(key), retry_strategy=None).users.update(
                    users[1]["id"], UserUpdate(is_suspended=False))
                raise AssertionError("the write went through")
            except BenchlingError as e:
                assert e.status_code == status
        assert users[1]["isSuspended"] is True


def test_paradime_mutations_and_stats():
    ws = generate_workspaces(seed=1, n_workspaces=1, users_per_workspace=4)
    with ParadimeSimulator(ws, admin_api_key="pd_admin", admin_api_secret="pd_admin_secret") as sim:
        endpoint = sim.endpoint_for(ws[0].name)
        admin = ParadimeClient(endpoint, api_key="pd_admin", api_secret="pd_admin_secret", name="w")
        reader = ParadimeClient(endpoint, api_key=sim.api_key, api_secret=sim.api_secret, name="w")
        uid = ws[0].active_users[0]["uid"]
        try:
            reader.disable_user(uid)
            raise AssertionError("a read key disabled a user")
        except ParadimeOperationError as e:
            assert "User Management Admin" in str(e)
        admin.update_user_account_type(uid, "ANALYST")
        assert ws[0].active_users[0]["accountType"] == "ANALYST"
        admin.disable_user(uid)
        active, _ = admin.list_users()
        assert uid not in {u["uid"] for u in active}
        try:
            admin.disable_user(uid)  # no longer active: ok false, a failure (never accepted silently)
            raise AssertionError("ok: false accepted")
        except ParadimeOperationError:
            pass
        stats = requests.get(sim.base_url + "/_simulator/stats", timeout=5).json()
        assert stats["by_operation"] == {"disableUser": 3, "updateUserAccountType": 1, "listUsers": 1}
        assert stats["requests"] == 5


def test_bencher_member_patch_delete():
    fx = lab_org(3)
    with BencherSimulator(fx, token="bencher_user_read", admin_token="bencher_user_admin") as sim:
        url = sim.base_url + "/v0/organizations/lab/members/"
        admin = {"Authorization": "Bearer bencher_user_admin"}
        reader = {"Authorization": "Bearer bencher_user_read"}
        assert requests.delete(url + "m-0", headers=reader, timeout=5).status_code == 404  # no delete right
        r = requests.patch(url + "m-1", json={"role": "leader"}, headers=admin, timeout=5)
        assert r.status_code == 200 and r.json()["role"] == "leader"  # same role again: 200
        assert requests.delete(url + "m-0", headers=admin, timeout=5).status_code == 204
        assert requests.delete(url + "m-0", headers=admin, timeout=5).status_code == 204  # exists, not a member
        assert requests.delete(url + "nobody", headers=admin, timeout=5).status_code == 404
        assert requests.patch(url + "m-0", json={"role": "leader"}, headers=admin, timeout=5).status_code == 404
        assert requests.delete(url + "m-2", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
        members = requests.get(sim.base_url + "/v0/organizations/lab/members", headers=reader, timeout=5).json()
        assert [m["slug"] for m in members] == ["m-1", "m-2"]
        stats = requests.get(sim.base_url + "/_simulator/stats", timeout=5).json()
        assert stats["by_path"]["DELETE /v0/organizations/:org/members/:user"] == 5
        assert stats["requests"] == 8  # the stats request itself is not counted
