"""paradime_configs_from_env: names, errors naming the missing variable, secret-free repr."""
from __future__ import annotations

import pytest

from pipelines.paradime.source import ConfigError, ParadimeWorkspaceConfig, paradime_configs_from_env


def test_single_workspace():
    [c] = paradime_configs_from_env({"PARADIME_API_ENDPOINT": "https://api.paradime.io/api/v1/abc/graphql",
                                     "PARADIME_API_KEY": "k-secret", "PARADIME_API_SECRET": "s-secret"})
    assert c.name == "default" and c.api_key == "k-secret"
    for s in ("k-secret", "s-secret", "abc", "paradime.io"):
        assert s not in repr(c) and s not in str(c) and s not in repr([c])


def test_bearer_and_missing_pieces():
    [c] = paradime_configs_from_env({"PARADIME_API_ENDPOINT": "https://x/graphql",
                                     "PARADIME_BEARER_TOKEN": "prdm_cmp_x", "PARADIME_WORKSPACE_UID": "u" * 16})
    assert c.bearer_token == "prdm_cmp_x" and c.workspace_uid == "u" * 16
    with pytest.raises(ConfigError, match="set PARADIME_API_SECRET"):
        paradime_configs_from_env({"PARADIME_API_ENDPOINT": "https://x", "PARADIME_API_KEY": "k"})
    with pytest.raises(ConfigError, match="set PARADIME_API_ENDPOINT"):
        paradime_configs_from_env({"PARADIME_API_KEY": "k", "PARADIME_API_SECRET": "s"})


def test_several_workspaces():
    env = {"PARADIME_WORKSPACES": "wsA, data-platform",
           "PARADIME_WSA__API_ENDPOINT": "https://a", "PARADIME_WSA__API_KEY": "ka", "PARADIME_WSA__API_SECRET": "sa",
           "PARADIME_DATA_PLATFORM__API_ENDPOINT": "https://b", "PARADIME_DATA_PLATFORM__BEARER_TOKEN": "prdm_wsp_b"}
    cs = paradime_configs_from_env(env)
    assert [c.name for c in cs] == ["wsA", "data-platform"]
    del env["PARADIME_DATA_PLATFORM__BEARER_TOKEN"]
    with pytest.raises(ConfigError, match="'data-platform'.*PARADIME_DATA_PLATFORM__API_KEY"):
        paradime_configs_from_env(env)


def test_nothing_configured(monkeypatch):
    import pipelines.paradime.source as src

    monkeypatch.setattr(src, "_secret", lambda key: None)
    with pytest.raises(ConfigError, match="PARADIME_API_ENDPOINT") as ei:
        paradime_configs_from_env({})
    assert isinstance(ei.value, ValueError)


def test_dlt_secrets_tables(monkeypatch):
    import pipelines.paradime.source as src

    tables = {"wsa": {"api_endpoint": "https://a", "api_key": "k", "api_secret": "s"}}
    monkeypatch.setattr(src, "_secret", lambda key: tables if key == "sources.paradime.workspaces" else None)
    [c] = paradime_configs_from_env({})
    assert c.name == "wsa" and c.endpoint == "https://a"
    assert ParadimeWorkspaceConfig(name="x", endpoint="https://e").workspace_uid is None
