#!/bin/bash
# kernelPython: the project environment becomes a kernel that JupyterLab and VS Code both find.
set -e
source dev-container-features-test-lib

check "kernel registered system-wide" test -f /usr/local/share/jupyter/kernels/demo/kernel.json
check "kernel runs the project interpreter" grep -q '"/opt/project/bin/python"' /usr/local/share/jupyter/kernels/demo/kernel.json
check "kernel display name" grep -q '"Demo project"' /usr/local/share/jupyter/kernels/demo/kernel.json
check "kernel listed" bash -c "jupyter kernelspec list | grep -q '^ *demo '"
check "jupyterlab not mixed into the project env" bash -c "! /opt/project/bin/python -c 'import jupyterlab' 2>/dev/null"
check "kernel executes code" bash -c "cd /tmp && /opt/jupyterlab/bin/python -c \"
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name='demo')
msgs = []
kc.execute_interactive('import sys; print(sys.executable)', output_hook=msgs.append, timeout=60)
km.shutdown_kernel()
print([m['content'].get('text') for m in msgs])
\" | grep -q /opt/project/bin/python"

reportResults
