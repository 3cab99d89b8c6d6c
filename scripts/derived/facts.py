"""The facts the generators take from data/versions.yml, checked for consistency once."""

from __future__ import annotations

import sys

from resolver.versions import version_key


class Facts:
    def __init__(self, data: dict):
        self.data = data
        cuda = data["cuda"]["releases"]
        self.cuda_supported = sorted((v for v in cuda if "runtime_wheel" in cuda[v]), key=version_key)
        self.cuda_default = data["cuda"]["feature_default"]
        self.cudnn_majors = sorted(data["cudnn"]["cuda_majors"], key=int)
        self.cudnn_default = self.cuda_default.split(".")[0]
        self.pythons = data["python"]["project"]
        self.min_python = min(self.pythons, key=version_key)
        problems = []
        if self.cuda_default not in self.cuda_supported:
            problems.append(f"cuda.feature_default {self.cuda_default} has no runtime_wheel")
        if self.cudnn_default not in self.cudnn_majors:
            problems.append(f"cudnn.cuda_majors lacks {self.cudnn_default}, the major of cuda.feature_default")
        for version in self.cuda_supported:
            if version.split(".")[0] not in data["cuda"]["minor_compat_min_driver"]:
                problems.append(f"cuda.minor_compat_min_driver lacks the major of {version}")
        if problems:
            sys.exit("data/versions.yml is inconsistent:\n  " + "\n  ".join(problems))
