"""The benchmarks: `python -m bench.run` measures (see bench/run.py), `python -m bench.report`
writes the tables of docs/benchmarks.md from bench/results/results.json."""
