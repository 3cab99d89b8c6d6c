"""What NVML sees, as env-doctor reads it (nvidia-ml-py): one JSON line with the GPU count, the
driver and the GPU names, or the count 0 and the error. Run by env-doctor's interpreter."""

import json

try:
    import pynvml

    pynvml.nvmlInit()
    n = pynvml.nvmlDeviceGetCount()
    names = [pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i)) for i in range(n)]
    print(json.dumps({"count": n, "driver": str(pynvml.nvmlSystemGetDriverVersion()),
                      "names": [x.decode() if isinstance(x, bytes) else x for x in names]}))
except Exception as error:
    print(json.dumps({"count": 0, "error": f"{type(error).__name__}: {error}"}))
