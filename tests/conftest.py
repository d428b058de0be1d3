"""Suite-wide set-up: deprecations raised from the project's own code are errors, in-process and in subprocesses.

pyproject's ``filterwarnings`` covers code that runs inside pytest; most CLI tests run the installed executable, so
the same filters go to every child Python through PYTHONWARNINGS.
"""

from __future__ import annotations

import os

from netsso_warnings import warning_filters

os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), warning_filters()]))
