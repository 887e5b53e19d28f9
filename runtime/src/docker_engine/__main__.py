"""`python -m docker_engine`: see docker_engine._cli."""

import sys

from docker_engine._cli import main

sys.exit(main())
