# make demo   set up .venv, train a base model on the bundled movie snippets, transfer it to the
#             bundled Amazon snippets, print the comparison table, write figures to images/
# make test   set up .venv, run the whole test suite
# make test-fast  the unit tests only (under a minute)
# make curve  the learning curve on the bundled data (README figure images/learning_curve.png)
# make strategies  every strategy at 0, 100, 500 and all target labels, 3 seeds (README table)
# make notebooks  rebuild notebooks/*.ipynb and execute them in place (the committed outputs)
# make bench  set up .venv, run the benchmarks
# make bases  base accuracy per encoder x initialisation, movie snippets and IMDB (README table)
# make tta    time to accuracy against fastText, TF-IDF + LR and PyTorch (docs/speed.md); IMDB
#             from data/ (transferlearn data get imdb)
# make lint   ruff (style, complexity, argument counts) and mypy on the package; .ci/run runs it
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# MXNet uses half the cores for OpenMP by default; all of them is faster (measured 1.5x on 2 cores).
export OMP_NUM_THREADS ?= $(shell nproc 2>/dev/null || echo 2)
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-fast bench bases lint clean curve strategies notebooks tta

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else \
	  "transferlearn needs Python 3.11 (found %d.%d at $(PYTHON)); run: make PYTHON=/path/to/python3.11" % v)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/train_base.py --out runs/base
	$(PY) scripts/transfer.py --base runs/base --strategy all --train-size 500 \
	  --out runs/target --tsne images/tsne_demo.png

runs/base/config.json: | $(STAMP)
	$(PY) scripts/train_base.py --out runs/base

curve: runs/base/config.json
	$(PY) scripts/transfer.py --base runs/base --strategy scratch,fine-tune,prior,auto \
	  --baselines tfidf-logreg --curve 100,200,500,1000,all --repeats 3 --out runs/curve \
	  --curve-plot images/learning_curve.png

strategies: runs/base/config.json
	$(PY) scripts/transfer.py --base runs/base \
	  --strategy scratch,feature-extract,fine-tune,gradual,joint,ensemble,prior,blend,auto,dann,coral,mmd \
	  --curve 0,100,500,all --repeats 3 --baselines tfidf-logreg --label-shift --epochs 10 \
	  --source-rows 2000 --out runs/strategies --curve-plot images/strategies.png

# the blog's pair at full size; the data: transferlearn data get imdb|hotel, or a folder that
# holds them in TRANSFERLEARN_DATA
notebooks: $(STAMP)
	$(PY) notebooks/build.py
	cd notebooks && for nb in 01_*.ipynb 02_*.ipynb 03_*.ipynb 04_*.ipynb; do \
	  ../$(PY) -m papermill --cwd . $$nb $$nb || exit 1; done

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m unit

bench: $(STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/speed.py --workload snippets --buckets 10 \
	    --frameworks mxnet,mxnet-torchinit,torch --out benchmarks/results-snippets.md
	$(PY) benchmarks/speed.py --workload imdb --buckets 10 --out benchmarks/results-imdb.md

# time to accuracy and memory, transferlearn's encoders against fastText, TF-IDF + LR and a
# PyTorch twin of the n-gram bag, IMDB and the movie snippets (about 11 minutes)
tta: $(STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) -m transferlearn data get imdb
	$(PY) benchmarks/time_to_accuracy.py --imdb $${TRANSFERLEARN_DATA:-data}/imdb_reviews.csv.gz

# base accuracy per encoder x initialisation (README "Base models"); IMDB takes about 40 min
bases: $(STAMP)
	$(PY) benchmarks/bases.py --suite snippets --seeds 3
	$(PY) benchmarks/bases.py --suite imdb --seeds 1

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf runs .pytest_cache
