"""Suite-wide set-up, the one place for it: the environment every test and every child process sees (no HOME,
kubeconfig, token cache or NETSSO_* defaults of the machine running the tests, no colour); deprecations raised from
the project's own code are errors, in-process and in subprocesses; fixtures shared across folders.

pyproject's ``filterwarnings`` covers code that runs inside pytest; most CLI tests run the installed executable, so
the same filters go to every child Python through PYTHONWARNINGS. Running the executable: helpers/executable.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.executable import isolated_env
from helpers.plain_install import plain_install
from helpers.warning_filters import warning_filters

# fixtures shared by several folders live in helper modules, registered once here
pytest_plugins = ["helpers.https_op"]

os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), warning_filters()]))


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session HOME of its own, set before any other fixture runs (session fixtures included), so a test that
    forgets to pass one still cannot read or write the developer's ~/.kube; tests that need a fresh one per test pass
    ``home=`` to helpers.executable.netsso or build ``isolated_env(tmp_path)``."""
    home = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k not in isolated_env(home)]:
            mp.delenv(key)
        for key, value in isolated_env(home).items():
            mp.setenv(key, value)
        yield home


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """The environment for a run of the executable with this test's tmp_path as HOME (no kubeconfig, no colour)."""
    return isolated_env(tmp_path)


@pytest.fixture(scope="session")
def installed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder a plain `pip install .` of this tree filled (package, dist-info, bin/), built once per session."""
    return plain_install(tmp_path_factory.mktemp("pip-install"))
