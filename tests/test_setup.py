"""The set-up files agree with each other: pyproject.toml, environment.yml, README, CI."""

import re
from pathlib import Path

import pytest

try:
    import tomllib  # Python ≥ 3.11
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on Python 3.10 needs tomli")

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # where conda-forge names a package differently


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = data["dependencies"] + data["optional-dependencies"]["dev"]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    deps = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.\-]+[^#]*)$", line)
        if m and not line.strip().startswith("- pip:"):
            name, spec = _split(m.group(1))
            deps[name] = spec
    return deps


def test_environment_yml_lists_the_same_packages_as_pyproject():
    py, conda = _pyproject(), _environment()
    for name, spec in py.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[conda_name] == spec, f"{name}: pyproject says {spec!r}, conda {conda[conda_name]!r}"
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in py} - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml lacks: {sorted(extra)}"


def test_dependencies_use_ranges_not_exact_pins():
    for name, spec in _pyproject().items():
        assert "==" not in spec, f"{name} is pinned exactly ({spec}); use a range"


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "lectures:", "exercises:"):
        assert re.search(rf"^{target}", makefile, re.M), target
