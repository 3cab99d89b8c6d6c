"""A fake NVML (the slice of pynvml env-doctor uses), GPUs for it to report, and a torch probe
result, so env-doctor's tests run on any machine.

A GPU's "util" and "used" may be lists: scripted over time, each query takes the next value and
the last one stays (`env-doctor watch` queries once at its start, then once per sample)."""

from __future__ import annotations

from types import SimpleNamespace

GIB = 2**30
H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaa", "cc": (9, 0), "total": 80 * GIB, "used": 1 * GIB, "util": 0}
A100 = {"name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-bbbb", "cc": (8, 0), "total": 40 * GIB, "used": 1 * GIB, "util": 0}
B200 = {"name": "NVIDIA B200", "uuid": "GPU-cccc", "cc": (10, 0), "total": 180 * GIB, "used": 1 * GIB, "util": 0}


class FakeNVMLError(Exception):
    pass


def scripted(gpu: dict, key: str):
    value = gpu[key]
    if isinstance(value, list):
        return value.pop(0) if len(value) > 1 else value[0]
    return value


class FakeNVML:
    """The slice of pynvml env-doctor uses, answering for the given driver and GPUs."""

    def __init__(self, driver="550.54.14", cuda=12040, gpus=(), init_error=None):
        self.driver, self.cuda, self.gpus, self.init_error = driver, cuda, list(gpus), init_error

    def nvmlInit(self):
        if self.init_error:
            raise FakeNVMLError(self.init_error)

    def nvmlShutdown(self):
        pass

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self):
        return self.cuda

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        return self.gpus[index]

    def nvmlDeviceGetName(self, gpu):
        return gpu["name"].encode()  # older nvidia-ml-py releases return bytes

    def nvmlDeviceGetUUID(self, gpu):
        return gpu["uuid"]

    def nvmlDeviceGetMemoryInfo(self, gpu):
        used = scripted(gpu, "used")
        return SimpleNamespace(total=gpu["total"], used=used, free=gpu["total"] - used)

    def nvmlDeviceGetUtilizationRates(self, gpu):
        return SimpleNamespace(gpu=scripted(gpu, "util"), memory=0)

    def nvmlDeviceGetComputeRunningProcesses(self, gpu):
        """gpu["pids"]: the PIDs NVML reports, host PIDs as in a container."""
        return [SimpleNamespace(pid=pid, usedGpuMemory=GIB) for pid in gpu.get("pids", [])]

    def nvmlDeviceGetPowerUsage(self, gpu):
        return gpu.get("power_mw", 300_000)

    def nvmlDeviceGetClockInfo(self, gpu, clock):
        return gpu.get("sm_mhz", 1980)

    def nvmlDeviceGetMaxClockInfo(self, gpu, clock):
        return gpu.get("sm_max_mhz", 1980)

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, gpu):
        return gpu.get("throttle_reasons", 0)

    def nvmlDeviceGetCudaComputeCapability(self, gpu):
        return gpu["cc"]


def torch_fw(version="2.6.0+cu124", cuda="12.4", devices=1, cc="9.0", arch=None, threads=2):
    """What env-doctor's probe reports for an installed torch."""
    arch = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"] if arch is None else arch
    return {"name": "torch", "version": version, "cuda": cuda, "cudnn": 90100, "arch_list": arch,
            "threads": threads, "cuda_available": devices > 0,
            "devices": [{"name": "gpu", "compute_capability": cc}] * devices}
