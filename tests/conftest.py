"""Suite-wide set-up: deprecations raised from the project's own code are errors, in-process and in subprocesses;
the ``installed_site`` fixture.

pyproject's ``filterwarnings`` covers code that runs inside pytest; most CLI tests run the installed executable, so
the same filters go to every child Python through PYTHONWARNINGS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from netsso_warnings import warning_filters
from plain_install import plain_install

os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), warning_filters()]))


@pytest.fixture(scope="session")
def installed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder a plain `pip install .` of this tree filled (package, dist-info, bin/), built once per session."""
    return plain_install(tmp_path_factory.mktemp("pip-install"))
