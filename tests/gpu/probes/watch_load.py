"""What `env-doctor watch` watches: bf16 matrix multiplies on GPU 0 with torch for SECONDS, else a
CPU busy loop.

    python watch_load.py SECONDS
"""

import sys
import time

end = time.time() + float(sys.argv[1])
try:
    import torch

    gpu = torch.cuda.is_available()
except ImportError:
    gpu = False
if gpu:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    while time.time() < end:
        for _ in range(20):
            a @ a
        torch.cuda.synchronize()
else:
    while time.time() < end:
        pass
