"""``python -m escalation_model.cli``: the same as the ``escalation-model`` command."""

import sys

from ._main import main

sys.exit(main())
