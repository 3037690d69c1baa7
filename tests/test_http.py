"""The shared HTTP layer (pipelines/http.py): plain http only to loopback, decided on addresses, not on
how a host name begins; one retry policy bounded in tries and in total time for the three clients."""
from __future__ import annotations

import socket

import pytest

from pipelines.bencher.client import BencherClient
from pipelines.benchling.client import ApiKeyAuth, BenchlingClient
from pipelines.http import is_loopback
from pipelines.paradime.client import ParadimeClient

HOSTILE = ["127.attacker.example", "127.0.0.1.nip.io", "localhost.attacker.example", "127.0.0.1.", "0x7f.example",
           "[::2]", "[fe80::1]", "[::ffff:10.0.0.1]", "128.0.0.1", "10.127.0.1"]
LOOPBACK = ["127.0.0.1", "127.1.2.3", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "localhost"]

CLIENTS = {
    "benchling": lambda url, insecure=False: BenchlingClient(url, ApiKeyAuth("sk_k"), allow_insecure_http=insecure),
    "paradime": lambda url, insecure=False: ParadimeClient(url + "/graphql", api_key="k", api_secret="s",
                                                           allow_insecure_http=insecure),
    "bencher": lambda url, insecure=False: BencherClient(url, "tok", allow_insecure_http=insecure),
}


@pytest.mark.parametrize("host", HOSTILE)
@pytest.mark.parametrize("source", sorted(CLIENTS))
def test_plain_http_to_a_name_that_only_looks_local_is_refused(source, host):
    with pytest.raises(ValueError, match="refusing to send .* over plain http"):
        CLIENTS[source](f"http://{host}:8080")
    CLIENTS[source](f"http://{host}:8080", insecure=True)  # the explicit opt-in still works
    CLIENTS[source](f"https://{host}:8080")


@pytest.mark.parametrize("host", LOOPBACK)
@pytest.mark.parametrize("source", sorted(CLIENTS))
def test_plain_http_to_loopback_is_allowed(source, host):
    CLIENTS[source](f"http://{host}:8080")


def test_ip_literals_decided_by_address():
    assert is_loopback("::1") and is_loopback("127.255.255.254") and is_loopback("[::1]")
    assert not is_loopback("127.attacker.example") and not is_loopback("127.0.0.1.nip.io")
    assert not is_loopback("::") and not is_loopback("0.0.0.0") and not is_loopback("")


def test_localhost_counts_only_when_every_address_it_resolves_to_is_loopback(monkeypatch):
    real = socket.getaddrinfo

    def resolve(addrs):
        return lambda host, *a, **k: [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                       (ip, 0)) for ip in addrs]

    monkeypatch.setattr(socket, "getaddrinfo", resolve(["127.0.0.1", "::1"]))
    assert is_loopback("localhost")
    monkeypatch.setattr(socket, "getaddrinfo", resolve(["127.0.0.1", "203.0.113.7"]))  # a hostile /etc/hosts
    assert not is_loopback("localhost")
    with pytest.raises(ValueError, match="plain http"):
        CLIENTS["bencher"]("http://localhost:8080")
    monkeypatch.setattr(socket, "getaddrinfo", real)
    assert is_loopback("localhost")


def test_transport_failures_are_told_apart_by_exception_type_not_text():
    import requests

    from pipelines.http import transport_failure

    def failure(url: str) -> BaseException:
        try:
            requests.get(url, timeout=5)
        except requests.RequestException as e:
            return e
        raise AssertionError(f"{url} answered")

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert transport_failure(failure("http://no-such-tenant.invalid/")) == "unknown host"
    assert transport_failure(failure(f"http://127.0.0.1:{port}/")) == "refused"
    assert transport_failure(requests.exceptions.ReadTimeout("read timed out")) == "timeout"
    # the words alone decide nothing: a dropped connection whose text mentions name resolution stays dropped
    assert transport_failure(requests.ConnectionError("Failed to resolve; Name or service not known; "
                                                      "Connection refused")) == "dropped"
