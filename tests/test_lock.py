"""The lock (constraints.txt, written by `make lock`) holds a version for every third-party
dependency of every package and of requirements-dev.txt, inside its declared range: someone who
adds or widens a dependency without re-locking is told here, not by a fresh install next month."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECTS = sorted([*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml"),
                     ROOT / "deploy/devstack/pyproject.toml"])
LOCAL = {tomllib.loads(p.read_text())["project"]["name"] for p in PYPROJECTS}


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            req = Requirement(line)
            (spec,) = req.specifier
            pins[_norm(req.name)] = spec.version
    return pins


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def declared() -> list[tuple[str, Requirement]]:
    found = []
    for path in PYPROJECTS:
        project = tomllib.loads(path.read_text())["project"]
        extras = project.get("optional-dependencies", {}).values()
        for raw in [*project.get("dependencies", []), *(r for e in extras for r in e)]:
            found.append((str(path.relative_to(ROOT)), Requirement(raw)))
    for raw in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if raw.strip() and not raw.startswith("#"):
            found.append(("requirements-dev.txt", Requirement(raw)))
    return found


@pytest.mark.parametrize(("where", "requirement"), declared(), ids=lambda v: str(v))
def test_every_dependency_is_locked_within_its_range(where: str,
                                                      requirement: Requirement) -> None:
    if requirement.name in LOCAL or (requirement.marker and not requirement.marker.evaluate()):
        return
    pin = locked().get(_norm(requirement.name))
    assert pin is not None, f"{requirement} ({where}) is not in constraints.txt: run `make lock`"
    assert requirement.specifier.contains(pin, prereleases=True), (
        f"constraints.txt has {requirement.name}=={pin}, outside {requirement} ({where}): "
        "run `make lock`")


def test_the_makefile_installs_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-c $(LOCK)" in makefile and "LOCK := constraints.txt" in makefile
