"""`python3 cluster COMMAND`: this project's cluster commands (`python3 cluster --help`; docs:
cluster/README.md). The runtime is cluster/mlcluster/, replaced whole by `copier update`; this
project's side of it is cluster/hooks.py."""

import sys

import hooks
from mlcluster.cli import main

sys.exit(main(hooks))
