"""Write endpoints: users, bulk users + tasks, archive/unarchive cascades, team memberships."""
from .conftest import validate


def test_patch_user_and_suspend(api, sim):
    u = sim.tenant.users[0]
    old = u["_modifiedAt"]
    r = api.patch(f"/users/{u['id']}", {"isSuspended": True})
    assert r.status_code == 200 and r.json()["isSuspended"] is True
    validate(r.json(), "/users/{user_id}", "patch", 200)
    assert u["_modifiedAt"] > old
    assert api.get(f"/users/{u['id']}").json()["isSuspended"] is True
    assert api.patch(f"/users/{u['id']}", {"bogus": 1}).status_code == 400
    assert api.patch(f"/users/{u['id']}", {"isSuspended": "yes"}).status_code == 400
    assert api.patch("/users/ent_nope", {"name": "x"}).status_code == 404
    # renames flow into membership summaries
    api.patch(f"/users/{u['id']}", {"name": "Louis P."})
    ms = api.get("/teams/team_AllHnd01/memberships", pageSize=1).json()["memberships"]
    assert ms[0]["user"]["name"] == "Louis P."


def test_create_user(api):
    r = api.post("/users", {"name": "Néw Persön", "email": "new@example.com", "handle": "newp"})
    assert r.status_code == 201
    validate(r.json(), "/users", "post", 201)
    assert r.json()["id"].startswith("ent_") and r.json()["isSuspended"] is False
    assert api.get(f"/users/{r.json()['id']}").status_code == 200
    assert api.post("/users", {"name": "x", "email": "y", "handle": "newp"}).status_code == 400
    assert api.post("/users", {"name": "x"}).status_code == 400


def test_bulk_create_and_update_with_tasks(api, sim):
    r = api.post("/users:bulk-create", {"users": [{"name": "A 1", "email": "a1@x", "handle": "a1"},
                                                  {"name": "A 2", "email": "a2@x", "handle": "a2"}]})
    assert r.status_code == 202
    validate(r.json(), "/users:bulk-create", "post", 202)
    task = api.get(f"/tasks/{r.json()['taskId']}")
    assert task.status_code == 200 and task.json()["status"] == "SUCCEEDED"
    created = task.json()["response"]["users"]
    assert [u["handle"] for u in created] == ["a1", "a2"]
    r = api.post("/users:bulk-update", {"users": [{"id": created[0]["id"], "isSuspended": True},
                                                  {"id": created[1]["id"], "name": "A Two"}]})
    assert r.status_code == 202
    task = api.get(f"/tasks/{r.json()['taskId']}").json()
    assert task["status"] == "SUCCEEDED" and task["response"]["users"][1]["name"] == "A Two"
    assert api.get(f"/users/{created[0]['id']}").json()["isSuspended"] is True
    r = api.post("/users:bulk-update", {"users": [{"id": "ent_missing", "name": "x"}]})
    task = api.get(f"/tasks/{r.json()['taskId']}").json()
    assert task["status"] == "FAILED" and "ent_missing" in task["message"]
    assert api.get("/tasks/task_nope").status_code == 404
    assert api.post("/users:bulk-create", {"users": "no"}).status_code == 400


def test_project_archive_cascade_and_unarchive(api, sim):
    pid = "src_NetYd96a"
    live_before = {f["id"] for f in sim.tenant.folders if f["projectId"] == pid and f["archiveRecord"] is None}
    r = api.post("/projects:archive", {"projectIds": [pid], "reason": "Retired"})
    assert r.status_code == 200
    validate(r.json(), "/projects:archive", "post", 200)
    assert r.json()["projectIds"] == [pid] and set(r.json()["folderIds"]) == live_before
    assert api.get(f"/projects/{pid}").json()["archiveRecord"] == {"reason": "Retired"}
    assert pid not in {p["id"] for p in api.all("/projects", "projects")}
    assert not live_before & {f["id"] for f in api.all("/folders", "folders")}
    assert live_before <= {f["id"] for f in api.all("/folders", "folders", archiveReason="Retired")}
    r = api.post("/projects:unarchive", {"projectIds": [pid]})
    assert r.status_code == 200 and set(r.json()["folderIds"]) == live_before
    # folders archived on their own before the project was archived stay archived
    assert api.get("/folders/lib_ArcMie01").json()["archiveRecord"] == {"reason": "Made in error"}
    assert api.get(f"/projects/{pid}").json()["archiveRecord"] is None
    assert api.post("/projects:archive", {"projectIds": [pid], "reason": "Bored"}).status_code == 400
    r = api.post("/projects:archive", {"projectIds": [pid, "src_nope"], "reason": "Other"})
    assert r.status_code == 400 and "src_nope" in r.json()["error"]["message"]


def test_folder_archive_cascade_and_unarchive(api, sim):
    r = api.post("/folders:archive", {"folderIds": ["lib_L3bbbbb3"], "reason": "Other"})
    assert r.status_code == 200
    validate(r.json(), "/folders:archive", "post", 200)
    assert r.json()["folderIds"] == ["lib_L3bbbbb3", "lib_L4ccccc4", "lib_L5ddddd5", "lib_L6eeeee6"]
    assert api.get("/folders/lib_L6eeeee6").json()["archiveRecord"] == {"reason": "Other"}
    assert api.get("/folders/lib_L2aaaaa2").json()["archiveRecord"] is None
    r = api.post("/folders:unarchive", {"folderIds": ["lib_L3bbbbb3"]})
    assert r.status_code == 200 and len(r.json()["folderIds"]) == 4
    validate(r.json(), "/folders:unarchive", "post", 200)
    assert api.get("/folders/lib_L6eeeee6").json()["archiveRecord"] is None


def test_memberships_add_update_remove(api, sim):
    team = "team_Empty001"
    old = sim.tenant.teams[3]["_modifiedAt"]
    r = api.post(f"/teams/{team}/memberships", {"userId": "ent_r7NoTea6", "role": "MEMBER"})
    assert r.status_code == 201
    validate(r.json(), "/teams/{team_id}/memberships", "post", 201)
    assert r.json() == {"user": {"id": "ent_r7NoTea6", "handle": "nnoteam", "name": "Nobody Noteam"}, "role": "MEMBER"}
    assert sim.tenant.teams[3]["_modifiedAt"] > old
    assert api.post(f"/teams/{team}/memberships", {"userId": "ent_r7NoTea6"}).status_code == 400
    assert api.post(f"/teams/{team}/memberships", {"userId": "ent_nobody"}).status_code == 400
    assert api.post("/teams/team_nope/memberships", {"userId": "ent_r7NoTea6"}).status_code == 404
    r = api.patch(f"/teams/{team}/memberships/ent_r7NoTea6", {"role": "ADMIN"})
    assert r.status_code == 200 and r.json()["role"] == "ADMIN"
    assert [m["role"] for m in api.get(f"/teams/{team}/memberships").json()["memberships"]] == ["ADMIN"]
    assert {u["id"] for u in api.get("/users", memberOf=team).json()["users"]} == {"ent_r7NoTea6"}
    r = api.delete(f"/teams/{team}/memberships/ent_r7NoTea6")
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"/teams/{team}/memberships").json()["memberships"] == []
    assert api.delete(f"/teams/{team}/memberships/ent_r7NoTea6").status_code == 404
