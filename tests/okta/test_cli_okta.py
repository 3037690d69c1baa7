"""`whsync simulate okta` and `whsync sync --source okta` as a user runs them: the org URL printed, credentials
from the environment or .dlt files (an API token, or a service app's private key), exit codes and one-line
causes, and no secret in any output."""
from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest

from pipelines.okta.simulator import OktaSimulator
from tests.okta.conftest import CLIENT_ID
from tests.test_cli_sources import FIXTURES, WHSYNC, error_line, printed_counts, run
from tests import forkserver


def test_simulate_okta_prints_its_org_url_and_serves_a_sync(tmp_path):
    token = "00cli-made-up-token-for-the-simulator-3141"
    sim = forkserver.Popen([WHSYNC, "simulate", "okta", "--fixture", str(FIXTURES / "okta_tricky.json"), "--port", "0",
                            "--api-token", token], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = sim.stdout.readline().strip()
        assert first.startswith("okta org: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1]
        assert token not in sim.stdout.readline()
        p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb"], tmp_path,
                {"OKTA_ORG_URL": url, "OKTA_API_TOKEN": token})
        assert p.returncode == 0, p.stderr
        counts = printed_counts(p.stdout)
        assert counts["okta.user"] == 12 and counts["okta.group"] == 3 and counts["okta.app_user"] == 7
        assert counts["access"] == 12 and counts["person"] == 11  # two users of Ada: one person
        assert token not in p.stdout + p.stderr
        # the fixture's own token is not the one the simulator was told to accept
        p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb", "--no-build"], tmp_path,
                {"OKTA_ORG_URL": url, "OKTA_API_TOKEN": "00tricky-okta-admin-token-5f2b9c"})
        assert p.returncode == 1 and "refused the credentials (HTTP 401" in error_line(p)
    finally:
        sim.terminate()
        sim.wait(timeout=10)


@pytest.fixture
def okta_sim(fx):
    with OktaSimulator(fx) as s:
        yield s


def test_a_token_without_an_admin_role_fails_in_one_line_and_is_never_printed(okta_sim, fx, tmp_path):
    weak = fx["api_tokens_without_rights"][0]
    p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb"], tmp_path,
            {"OKTA_ORG_URL": okta_sim.org_url, "OKTA_API_TOKEN": weak})
    assert p.returncode == 1, p.stderr
    assert error_line(p) == (f"whsync: error: Okta list users: {okta_sim.org_url} returned no users at all (Okta answers "
                             "200 and an empty list when the API token or service app has no admin role); give it a "
                             "read-only admin role and sync again")
    assert weak not in p.stdout + p.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing published


def test_service_app_with_private_key_jwt_from_dlt_files(okta_sim, fx, keys, tmp_path):
    (tmp_path / "app.pem").write_text(keys["private"])
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(
        f'[sources.okta]\norg_url = "{okta_sim.org_url}"\nclient_id = "{CLIENT_ID}"\nprivate_key_file = "app.pem"\n')
    p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb", "--no-build"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert okta_sim.stats()["assertions_verified"] == 1
    body = keys["private"].splitlines()[1]
    assert body not in p.stdout + p.stderr
    # nor in the warehouse (every text value, dlt's state decoded): the private key, and the access token it got
    issued = list(okta_sim._tokens)
    assert len(issued) == 1
    nowhere_in_the_warehouse(tmp_path / "w.duckdb", [*keys["private"].splitlines()[1:-1], *issued])


def test_api_token_from_secrets_toml(okta_sim, fx, tmp_path):
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(f'[sources.okta]\norg_url = "{okta_sim.org_url}"\n')
    (tmp_path / ".dlt" / "secrets.toml").write_text(f'[sources.okta]\napi_token = "{fx["api_token"]}"\n')
    p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb", "--no-build"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert okta_sim.stats()["by_path"]["GET /api/v1/users"] == 3
    assert fx["api_token"] not in p.stdout + p.stderr
    nowhere_in_the_warehouse(tmp_path / "w.duckdb", [fx["api_token"]])


def nowhere_in_the_warehouse(path: Path, secrets: list[str]) -> None:
    """No form of any secret (raw, UTF-16, base64 at each alignment) in the warehouse's text values (dlt's
    compressed state decoded) or in the file's bytes."""
    from tests.test_resilience import key_forms, warehouse_texts

    texts, data = warehouse_texts(path), path.read_bytes()
    assert any("okta" in t for t in texts)  # the raw data is there to search
    for secret in secrets:
        for form in key_forms(secret):
            assert form not in data and all(form.decode("latin-1") not in t for t in texts), secret[:6]


@pytest.mark.parametrize("url,says", [
    ("http://acme.okta.com", "refusing to send the Okta credentials over plain http to acme.okta.com"),
    ("acme.okta.com", "is not an http(s) URL"),
])
def test_bad_org_url_exits_2_naming_it(url, says, tmp_path):
    p = run(["sync", "--source", "okta", "--duckdb", "w.duckdb"], tmp_path, {"OKTA_ORG_URL": url, "OKTA_API_TOKEN": "x"})
    assert p.returncode == 2, p.stderr
    assert says in error_line(p) and error_line(p).startswith("whsync: error: Okta: ")
