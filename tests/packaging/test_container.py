"""The Dockerfile builds an image whose `whsync demo` works: built and run with docker or podman where one
is installed, its daemon answers and the base image is present locally (tests never pull images);
otherwise the test says which of those is missing. The wheel test (test_installed_wheel.py) covers the
same install steps everywhere."""
from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest

from .conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def base_image() -> str:
    m = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert m, "Dockerfile: ARG PYTHON_IMAGE=<image> names the base image"
    return m.group(1)


def engine() -> str:
    """A working container engine with the base image present, or skip saying why not."""
    reasons = []
    for name in ("docker", "podman"):
        exe = shutil.which(name)
        if not exe:
            reasons.append(f"{name} is not installed")
            continue
        info = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=60)
        if info.returncode != 0:
            why = (info.stderr.strip().splitlines() or ["no answer"])[-1]
            reasons.append(f"{name} is installed but cannot run containers ({why})")
            continue
        image = subprocess.run([exe, "image", "inspect", base_image()], capture_output=True, text=True, timeout=60)
        if image.returncode != 0:
            reasons.append(f"{name} works but the base image {base_image()} is not present "
                           f"(`{name} pull {base_image()}` to run this test; tests never pull)")
            continue
        return exe
    pytest.skip("no container engine to build the image: " + "; ".join(reasons))


def test_the_dockerfile_is_multi_stage_non_root_with_whsync_as_entrypoint_and_the_warehouse_on_a_volume():
    """What the recipes rely on, read from the Dockerfile (the build below proves it runs)."""
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", DOCKERFILE, re.M)
    assert len(stages) >= 2 and stages[0][1] == "build"
    final = DOCKERFILE[DOCKERFILE.rindex("\nFROM "):]
    assert "COPY --from=build /opt/whsync /opt/whsync" in final
    user = re.findall(r"^USER\s+(\S+)$", final, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["whsync"\]$', final, re.M)
    assert re.search(r'^VOLUME \["/data"\]$', final, re.M) and re.search(r"^WORKDIR /data$", final, re.M)
    # installed from the lock: the runtime groups only, frozen, then the wheel without resolving again
    assert "uv sync --frozen --no-default-groups --no-install-project --no-editable" in DOCKERFILE
    assert "uv build --wheel" in DOCKERFILE and "--no-deps /dist/whsync-*.whl" in DOCKERFILE


def test_the_image_builds_and_runs_the_demo_into_its_volume():
    exe = engine()
    tag = f"whsync-test:{uuid.uuid4().hex[:8]}"
    volume = f"whsync-test-{uuid.uuid4().hex[:8]}"
    try:
        b = subprocess.run([exe, "build", "-t", tag, str(REPO)], capture_output=True, text=True, timeout=1800)
        assert b.returncode == 0, b.stderr[-3000:]
        user = subprocess.run([exe, "image", "inspect", "-f", "{{.Config.User}}", tag], capture_output=True,
                              text=True, timeout=60).stdout.strip()
        assert user and user not in ("root", "0")
        v = subprocess.run([exe, "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120)
        assert v.returncode == 0 and v.stdout.startswith("whsync "), v.stderr
        d = subprocess.run([exe, "run", "--rm", "-v", f"{volume}:/data", tag, "demo", "--quiet"],
                           capture_output=True, text=True, timeout=900)
        assert d.returncode == 0, d.stderr[-3000:]
        assert "warehouse: /data/warehouse.duckdb" in d.stdout
        # a second container reads what the first left in the volume
        s = subprocess.run([exe, "run", "--rm", "-v", f"{volume}:/data", tag, "sql", "--format", "csv",
                            "select count(*) as n from team_member"], capture_output=True, text=True, timeout=300)
        assert s.returncode == 0, s.stderr
        n = re.search(r"^\s+team_member\s+(\d+)$", d.stdout, re.M)
        assert n and s.stdout.split() == ["n", n.group(1)]
    finally:
        subprocess.run([exe, "volume", "rm", "-f", volume], capture_output=True, timeout=120)
        subprocess.run([exe, "image", "rm", "-f", tag], capture_output=True, timeout=120)
