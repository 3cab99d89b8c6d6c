"""mlcluster: runs an ML project's sweeps and multi-node trainings on Slurm or Kubernetes, in the
project's published job image. Standard library only (Python 3.9+), so that it runs from a project
checkout on a login node's system python3. Docs: README.md beside this folder's parent; changes:
CHANGELOG.md."""

__version__ = "1.0.0"
