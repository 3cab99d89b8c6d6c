"""The CUDA runtime and cuDNN that torch loads: torch's own view (CUDA build, cuDNN version, devices)
and the libcudart/libcudnn files mapped into this process (/proc/self/maps) after a convolution on
the GPU, which loads cuDNN's engines. One line: GPU-CHECK <JSON>."""

import json
import os

try:
    import torch
except Exception as error:
    print("GPU-CHECK " + json.dumps({"error": f"{type(error).__name__}: {error}"}))
    raise SystemExit from None
info = {"version": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
        "device_count": torch.cuda.device_count() if torch.cuda.is_available() else 0}
try:
    info["cudnn"] = torch.backends.cudnn.version()
except Exception:
    info["cudnn"] = None
if info["cuda_available"]:
    x = torch.randn(1, 1, 8, 8, device="cuda")
    torch.nn.functional.conv2d(x, torch.randn(1, 1, 3, 3, device="cuda"))
    torch.cuda.synchronize()
loaded = {}
with open("/proc/self/maps") as maps:
    for line in maps:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        for key, stem in (("cudart", "libcudart.so"), ("cudnn", "libcudnn.so")):
            if os.path.basename(path).startswith(stem):
                loaded.setdefault(key, os.path.realpath(path))
info["loaded"] = loaded
print("GPU-CHECK " + json.dumps(info))
