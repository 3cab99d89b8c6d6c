"""One rank of a DDP step, run by torchrun: a forward/backward/optimizer step of a tiny model (NCCL
on GPUs, gloo on CPUs), then every rank checks that the parameters agree and that an all-reduce
sums to what it should. Prints one line per rank ending in OK or WRONG; exit 1 when WRONG.

    python -m torch.distributed.run --standalone --nproc-per-node=N ddp_step.py
"""

import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
cuda = torch.cuda.is_available()
if cuda:
    torch.cuda.set_device(local)
device = torch.device("cuda", local) if cuda else torch.device("cpu")
backend = "nccl" if cuda else "gloo"
dist.init_process_group(backend)
torch.manual_seed(0)  # the same initial model on every rank
model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).to(device)
ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
data = torch.Generator().manual_seed(100 + rank)  # different data on every rank
x, y = torch.randn(8, 16, generator=data).to(device), torch.randn(8, 1, generator=data).to(device)
loss = torch.nn.functional.mse_loss(ddp(x), y)
optimizer.zero_grad()
loss.backward()
optimizer.step()
# DDP averaged the gradients: after the step every rank must hold the same parameters.
checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
high, low = checksum.clone(), checksum.clone()
dist.all_reduce(high, op=dist.ReduceOp.MAX)
dist.all_reduce(low, op=dist.ReduceOp.MIN)
in_sync = bool(high.item() == low.item())
total = torch.tensor([float(rank + 1)], device=device)
dist.all_reduce(total)
expected = world * (world + 1) / 2
ok = in_sync and total.item() == expected
line = (f"rank {rank}/{world}: backend {backend} on {device}, loss {loss.item():.4f}, parameters in sync: {in_sync}, "
        f"all_reduce sum {total.item():g} (expected {expected:g}) {'OK' if ok else 'WRONG'}\n")
os.write(1, line.encode())  # one write: the ranks share torchrun's stdout and must not interleave
dist.barrier()  # no rank tears gloo down while another still talks to it ("terminate called ...")
dist.destroy_process_group()
sys.exit(0 if ok else 1)
