from __future__ import annotations

import copy
import os

import pytest

from tests.helpers import tricky_fixture

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

CLIENT_ID = "0oa-service-app-whsync"
SCOPES = ["okta.users.read", "okta.groups.read", "okta.apps.read"]


def rsa_pair() -> tuple[str, str]:
    """A fresh RSA key pair (private PEM, public PEM): the service app's, generated for the test."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="session")
def keys() -> dict[str, str]:
    private, public = rsa_pair()
    other, _ = rsa_pair()
    return {"private": private, "public": public, "other_private": other}


@pytest.fixture
def fx(keys):
    fx = copy.deepcopy(tricky_fixture("okta"))
    fx["service_apps"] = [{"client_id": CLIENT_ID, "public_key": keys["public"], "scopes": SCOPES, "admin": True},
                          {"client_id": "0oa-no-scopes", "public_key": keys["public"], "scopes": ["okta.users.read"],
                           "admin": True}]
    return fx


@pytest.fixture
def sim(fx):
    from pipelines.okta.simulator import OktaSimulator

    with OktaSimulator(fx) as s:
        yield s
