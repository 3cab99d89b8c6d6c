"""Write the JobSet CRD the tests validate against (tests/data/jobset-crd.json) from JobSet's own
CRD file, without its descriptions (they are most of its 800 KB and no rule depends on them).

    python scripts/vendor_jobset_crd.py jobset.x-k8s.io_jobsets.yaml v0.12.0

The file is config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml of
github.com/kubernetes-sigs/jobset at the release tag given (also in the release's manifests.yaml).
Run it again to move the tests to a newer JobSet release.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests/data/jobset-crd.json"


def without_descriptions(node):
    if isinstance(node, dict):
        return {key: without_descriptions(value) for key, value in node.items() if key != "description"}
    if isinstance(node, list):
        return [without_descriptions(value) for value in node]
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("crd", type=Path, help="JobSet's jobset.x-k8s.io_jobsets.yaml")
    parser.add_argument("release", help="the JobSet release it comes from, e.g. v0.12.0")
    args = parser.parse_args()
    crds = [doc for doc in yaml.safe_load_all(args.crd.read_text()) if doc and doc.get("kind") == "CustomResourceDefinition"]
    if len(crds) != 1 or crds[0]["metadata"]["name"] != "jobsets.jobset.x-k8s.io":
        raise SystemExit(f"{args.crd}: expected the one CustomResourceDefinition jobsets.jobset.x-k8s.io")
    crd = without_descriptions(crds[0])
    crd["metadata"].setdefault("annotations", {})["mltemplate/source"] = (
        f"github.com/kubernetes-sigs/jobset {args.release} config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml,"
        " descriptions removed by scripts/vendor_jobset_crd.py")
    OUT.write_text(json.dumps(crd, indent=None, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(OUT.parents[2])} ({OUT.stat().st_size // 1024} KB, JobSet {args.release})")


if __name__ == "__main__":
    main()
