"""`python -m env_doctor`: what /usr/local/bin/env-doctor runs."""

import sys

from .cli import main

sys.exit(main())
