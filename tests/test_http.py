"""The shared HTTP layer (pipelines/http.py): plain http only to loopback, decided on addresses, not on
how a host name begins; one retry policy bounded in tries and in total time for the three clients; each
client's Authorization header sent as it set it, never replaced by a ~/.netrc login (but on a redirect, which
requests handles as always)."""
from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from pipelines.bencher.client import BencherClient
from pipelines.benchling.client import ApiKeyAuth, BenchlingClient
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.http import CountingSession, is_loopback
from pipelines.loopback import LoopbackServer
from pipelines.okta.client import ApiTokenAuth, OktaClient
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


def test_retry_waits_back_off_exponentially_with_jitter_and_heed_retry_after():
    """The waits the fault matrix and the CLI tests shorten (they patch `RetryPolicy.delay`): after the n-th
    failed try a uniform draw between half and all of min(cap, base * 2**n); a `Retry-After` raises it, up to
    MAX_RETRY_AFTER."""
    import random

    from pipelines.http import MAX_RETRY_AFTER, RetryPolicy

    policy = RetryPolicy()
    random.seed(5)
    for tries in range(1, 8):
        ceiling = min(policy.cap, policy.base * 2**tries)
        waits = [policy.delay(tries) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (tries, min(waits), max(waits))
        assert max(waits) - min(waits) > ceiling / 4  # jittered, not a constant
    assert [min(policy.cap, policy.base * 2**n) for n in range(1, 7)] == [1, 2, 4, 8, 15, 15]
    assert policy.delay(1, retry_after="7") == 7  # the server's wait when it is longer
    assert policy.delay(1, retry_after="0") <= 1  # never shorter than the backoff
    assert policy.delay(1, retry_after="3600") == MAX_RETRY_AFTER
    assert policy.delay(1, retry_after="Wed, 21 Oct 2026 07:28:00 GMT") <= 1  # a date is not seconds


def test_retries_sleep_the_policy_waits_and_give_up_bounded_in_tries_and_time(monkeypatch):
    import logging

    from pipelines.http import Retries, RetryPolicy

    class Gone(Exception):
        pass

    log = logging.getLogger("test")
    slept: list[float] = []
    retries = Retries(RetryPolicy(), Gone, log)
    for _ in range(5):
        retries.failed("HTTP 503", sleep=slept.append)
    assert len(slept) == 5 and slept[0] <= 1 and slept[3] >= 4  # each wait the policy's, growing
    with pytest.raises(Gone, match=r"HTTP 503 \(gave up after 6 tries in \d+s\)"):
        retries.failed("HTTP 503", sleep=slept.append)
    assert len(slept) == 5  # no wait after the last try

    refused = Retries(RetryPolicy(), Gone, log)  # nothing listens: fewer tries
    refused.failed("refused", refused=True, sleep=slept.append)
    refused.failed("refused", refused=True, sleep=slept.append)
    with pytest.raises(Gone, match="gave up after 3 tries"):
        refused.failed("refused", refused=True, sleep=slept.append)

    timed = Retries(RetryPolicy(max_seconds=10.0), Gone, log)  # a wait past max_seconds is not begun
    monkeypatch.setattr(timed, "started", timed.started - 9.5)
    with pytest.raises(Gone, match="gave up after 1 tries"):
        timed.failed("HTTP 503", delay=1.0, sleep=slept.append)
    assert len(slept) == 7


@pytest.fixture
def netrc_for_loopback(tmp_path, monkeypatch):
    """A netrc file (as `$NETRC`, which requests reads like ~/.netrc) with a login for 127.0.0.1."""
    f = tmp_path / "netrc"
    f.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    f.chmod(0o600)
    monkeypatch.setenv("NETRC", str(f))


class _Echo(LoopbackServer):
    """A loopback server answering every GET with 200, keeping each request's Authorization header."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.simulator.seen.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):  # noqa: ANN002
                pass

        self._init_server("127.0.0.1", 0, Handler)


def test_a_netrc_login_never_replaces_a_clients_authorization_header(netrc_for_loopback):
    with _Echo() as server:
        url, seen = server.root_url, server.seen
        requests.Session().get(url, headers={"Authorization": "Bearer mine"}, timeout=10)
        assert seen == ["Basic bmV0cmMtdXNlcjpuZXRyYy1wYXNzd29yZA=="]  # requests' own session: the netrc login wins
        seen.clear()
        counting = CountingSession()  # Paradime's, Bencher's and remediation's, each given to its client
        sessions = {"benchling": CLIENTS["benchling"](url, True).session,
                    "paradime": CLIENTS["paradime"](url, True)._session,
                    "bencher": CLIENTS["bencher"](url, True)._session,
                    "okta": OktaClient(url, ApiTokenAuth("t"), allow_insecure_http=True)._session,
                    "counting": BencherClient(url, "tok", session=counting, allow_insecure_http=True)._session}
        assert sessions["counting"] is counting
        for name, session in sessions.items():
            session.get(url, headers={"Authorization": f"Bearer {name}"}, timeout=10)
        assert seen == [f"Bearer {name}" for name in sessions]


def test_a_benchling_listing_signs_in_with_its_key_beside_a_netrc_login(netrc_for_loopback):
    with BenchlingSimulator(generate_tenant(seed=3, users=5, apps=1, teams=1, projects=1, folders=1),
                            api_key=DEMO_API_KEY, rate_limit="off") as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY), allow_insecure_http=True)
        assert len(client.get("/users", params={"pageSize": 50})["users"]) == 5
