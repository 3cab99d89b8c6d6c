"""python3 -m mlcluster: the runtime's commands without a project's hooks (projects run
`python3 cluster`, whose cluster/__main__.py hands its hooks.py over)."""

import sys

from .cli import main

sys.exit(main())
