"""Every notebook is committed clean: no outputs, no widget state, the python3 kernel.

That each one runs top to bottom in a fresh kernel is checked by
``pytest --nbval-lax lectures/ solutions/`` in ``make test``; exercises are
checked to stop at their first task in test_exercises.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("lectures", "solutions", "exercises")
                   for p in (ROOT / folder).glob("*.ipynb"))


def _numbers(folder: str) -> list[str]:
    return sorted(p.name[:2] for p in (ROOT / folder).glob("*.ipynb"))


def test_every_lecture_has_a_solution_and_a_generated_exercise():
    lectures = _numbers("lectures")
    assert lectures[:5] == ["00", "01", "02", "03", "04"], f"lectures 00-04 must exist, found {lectures}"
    assert _numbers("solutions") == lectures, "each lecture NN_*.ipynb needs solutions/NN_*.ipynb"
    names = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb")) == names, \
        "exercises/ must hold exactly one generated exercise per solution (make exercises)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_clean(path):
    import nbformat

    nb = json.loads(path.read_text(encoding="utf-8"))
    nbformat.validate(nbformat.from_dict(nb))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: use the python3 kernel (Kernel > Change Kernel), "
        f"got {nb['metadata'].get('kernelspec')}")
    assert "widgets" not in nb["metadata"], f"{path.name}: saved widget state; clear it before committing"
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
                       "(Edit > Clear Outputs of All Cells, or jupyter nbconvert --clear-output --inplace)")


@pytest.mark.timeout(120)
def test_tqdm_auto_progress_bars_run_headless(monkeypatch):
    """tqdm.auto draws an ipywidgets bar in a kernel; that must not break nbclient/nbval runs."""
    import nbformat
    from course_lib import notebooks as nbs

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from tqdm.auto import tqdm, trange\n"
        "total = 0\n"
        "for i in tqdm(range(5), desc='steps'):\n"
        "    total += i\n"
        "for _ in trange(3, leave=False):\n"
        "    pass\n"
        "assert total == 10")])
    nbs.notebook_client(nb, timeout=60).execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error"]
