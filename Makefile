# One entry point for students, instructors and CI. `make lab` opens the course, `make test` tests it.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# A CPU build of PyTorch by default. GPU (CUDA) users: make lab TORCH=torch
TORCH  ?= torch==2.13.0
# Where pip finds that CPU build when the default index only has CUDA builds (Linux):
# make lab TORCH_INDEX=<PyTorch's CPU wheel index, from the install selector on pytorch.org>
TORCH_INDEX ?=
# One stamp per torch choice, so `make lab TORCH=torch` after a CPU install reinstalls torch.
STAMP  := $(VENV)/.installed-$(subst /,_,$(subst =,-,$(subst <,lt,$(subst >,gt,$(TORCH)))))
NBVAL  := --nbval-lax --nbval-current-env --nbval-cell-timeout=900

.PHONY: install lab lab-instructor test test-fast lectures site exercises check-exercises grade lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "The course needs Python >= 3.10; run make PYTHON=python3.12 (or another)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "python3 -m venv failed: on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Opens on lecture 00, with lectures/, exercises/ and solutions/ in the file browser: a student's
# JupyterLab, without the instructors' nbgrader tools or the news pop-up (see jupyter/README.md).
LAB_ARGS = --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lectures/00_welcome.ipynb \
	$(if $(filter 0,$(shell id -u)),--allow-root)
lab: install
	JUPYTER_CONFIG_DIR="$(CURDIR)/jupyter/student" $(VENV)/bin/jupyter lab $(LAB_ARGS)

# The same with nbgrader's menu, panels and formgrader, for instructors (docs/instructors.md).
lab-instructor: install
	JUPYTER_CONFIG_DIR="$(CURDIR)/jupyter/instructor" $(VENV)/bin/jupyter lab $(LAB_ARGS)

# The layers contract, then every unit test, then every lecture and solution notebook in fast mode (nbval).
test: install
	$(VENV)/bin/lint-imports
	COURSE_FAST=1 $(PY) -m pytest tests/ lectures/ solutions/ $(NBVAL)

# Unit tests only (no notebooks, no browser).
test-fast: install
	COURSE_FAST=1 $(PY) -m pytest tests/ -m "not browser"

# Execute every lecture headless and write HTML to build/lectures (COURSE_FAST=0 for full mode).
lectures: install
	mkdir -p build/lectures
	$(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=3600 \
		--output-dir build/lectures lectures/*.ipynb

# The course website (Jupyter Book): every lecture executed in its own folder, lectures/, as nbval
# runs it, then rendered to build/site/_build/html (open index.html). COURSE_FAST=1 for a quick
# pass; unset (or 0) for the full results. site/ says what is published: the lectures only.
site: install
	$(VENV)/bin/jupyter-book build lectures --all --path-output build/site \
		--config "$(CURDIR)/site/_config.yml" --toc "$(CURDIR)/site/_toc.yml"

# Exercises are generated from solutions/, never edited by hand.
exercises: install
	$(PY) -m course_lib.grading generate

check-exercises: install
	$(PY) -m course_lib.grading generate --check

# Instructors: grade a folder of submissions (SUBMISSIONS=dir/<student>/<notebook>.ipynb).
grade: install
	$(PY) -m course_lib.grading grade $(SUBMISSIONS) --out grades.csv --jobs $(or $(JOBS),1)

lint: install
	$(VENV)/bin/ruff check course_lib tests benchmarks
	$(VENV)/bin/lint-imports

bench: install
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_judges.py
	$(PY) benchmarks/bench_segmenter.py
	$(PY) benchmarks/bench_dcgan.py
	$(PY) benchmarks/bench_inversion.py
	$(PY) benchmarks/bench_inversion_perceptual.py
	$(PY) benchmarks/bench_glcic.py
	$(PY) benchmarks/bench_glcic_ablation.py
	$(PY) benchmarks/bench_adain.py
	$(PY) benchmarks/bench_spade.py
	$(PY) benchmarks/bench_ganpaint.py
	$(PY) benchmarks/bench_dcgan_probe.py
	$(PY) benchmarks/bench_runtimes.py --mode fast

clean:
	rm -rf build test-output .pytest_cache
