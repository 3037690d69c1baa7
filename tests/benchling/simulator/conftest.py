"""Shared helpers for the Benchling simulator tests: the OpenAPI spec (from the installed package),
schema validation, and simulators on port 0."""
from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant, generate_tenant

TRICKY = Path(__file__).resolve().parents[2] / "fixtures" / "benchling_tricky.json"
SPEC_URI = "urn:benchling-openapi"


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    path = importlib.resources.files("benchling_api_client") / "v2" / "stable" / "openapi.yaml"
    with path.open("r", encoding="utf-8") as fh:
        loaded = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _nullable_allof(loaded)


def _nullable_allof(node):
    """openapi-schema-validator applies `nullable` only through `type`, so `{allOf: [X], nullable: true}`
    (how the spec writes nullable objects such as archiveRecord) rejects null. Rewrite those nodes to
    `{anyOf: [{allOf: [X]}, {enum: [null]}]}`, which is what the spec means."""
    if isinstance(node, list):
        return [_nullable_allof(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_allof(v) for k, v in node.items()}
    # `additionalProperties: false` next to (or inside) allOf makes e.g. BenchlingApp unsatisfiable under
    # JSON Schema (each branch forbids the other branch's keys). Drop it; assert_all_keys checks the
    # exact key set instead.
    if node.get("additionalProperties") is False:
        node = {k: v for k, v in node.items() if k != "additionalProperties"}
    if node.get("nullable") is True and "allOf" in node and "type" not in node:
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        node = {**rest, "anyOf": [{"allOf": node["allOf"]}, {"enum": [None]}]}
    return node


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT4))


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        ref = schema["$ref"]
        node = spec()
        for part in ref.split("#/", 1)[1].split("/"):
            node = node[part]
        schema = node
    return schema


def response_schema(path: str, method: str, status: int) -> dict:
    op = spec()["paths"][path][method.lower()]
    content = op["responses"][str(status)]["content"]
    return content[next(iter(content))]["schema"]


def declared_properties(schema: dict) -> dict:
    """Properties declared by an object schema, merging allOf; {} for anyOf/oneOf/scalars."""
    schema = resolve(schema)
    props: dict = {}
    for part in schema.get("allOf", []):
        props.update(declared_properties(part))
    props.update(schema.get("properties", {}))
    return props


def assert_all_keys(value, schema: dict, where: str = "$") -> None:
    """Every property the schema declares is present (recursively into objects and arrays)."""
    schema = resolve(schema)
    if value is None:
        return
    if isinstance(value, list):
        items = schema.get("items")
        if items is not None:
            for i, v in enumerate(value):
                assert_all_keys(v, items, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        props = declared_properties(schema)
        missing = sorted(k for k in props if k not in value)
        assert not missing, f"{where}: missing declared keys {missing}"
        if props:
            extra = sorted(k for k in value if k not in props)
            assert not extra, f"{where}: keys the schema does not declare {extra}"
        for k, sub in props.items():
            sub_r = resolve(sub)
            if "oneOf" in sub_r:
                continue
            if "anyOf" in sub_r:  # nullable allOf (rewritten above) or Project.owner (both shapes alike)
                sub = sub_r["anyOf"][0]
            assert_all_keys(value[k], sub, f"{where}.{k}")


def validate(body, path: str, method: str, status: int, all_keys: bool = True) -> None:
    schema = response_schema(path, method, status)
    OAS30ReadValidator({"$ref": SPEC_URI + schema["$ref"]} if "$ref" in schema else schema,
                       registry=registry()).validate(body)
    if all_keys:
        assert_all_keys(body, schema)


@pytest.fixture
def make_sim():
    started = []

    def _make(tenant=None, **kw):
        kw.setdefault("rate_limit", "off")
        sim = BenchlingSimulator(tenant if tenant is not None else Tenant.load(TRICKY), **kw).start()
        started.append(sim)
        return sim
    yield _make
    for s in started:
        s.stop()


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def api(sim):
    return Client(sim)


class Client:
    """requests with the demo key, relative to the simulator's /api/v2."""

    def __init__(self, sim, key: str = DEMO_API_KEY):
        self.sim = sim
        self.s = requests.Session()
        self.s.auth = (key, "")

    def get(self, path, **params):
        return self.s.get(self.sim.base_url + path, params=params, timeout=10)

    def post(self, path, json=None):
        return self.s.post(self.sim.base_url + path, json=json, timeout=10)

    def patch(self, path, json=None):
        return self.s.patch(self.sim.base_url + path, json=json, timeout=10)

    def delete(self, path):
        return self.s.delete(self.sim.base_url + path, timeout=10)

    def all(self, path, key, **params):
        out, token = [], ""
        while True:
            r = self.get(path, nextToken=token, **params)
            assert r.status_code == 200, r.text
            out.extend(r.json()[key])
            token = r.json()["nextToken"]
            if token == "":
                return out


@pytest.fixture(scope="session")
def small_generated():
    return generate_tenant(seed=7, users=230, apps=6, teams=12, projects=30, folders=260)
