"""Fixtures for the e2e suite: real OpenID Provider, headless Chromium, the real kubectl, the kube API double.

See tests/e2e/harness/README.md for what each fixture gives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.apiserver import FakeAPIServer  # noqa: E402
from harness.browser import Browser, BrowserCommand, chromium_available  # noqa: E402
from harness.ca import TestPKI, make_pki  # noqa: E402
from harness.env import IsolatedHome, Recorder  # noqa: E402
from harness.kubeconfig import write_kubeconfig  # noqa: E402
from harness.provider import OIDCProvider, ProviderStartError  # noqa: E402
from harness.require import unavailable  # noqa: E402
from harness.secret_service import SecretService, secret_service_missing  # noqa: E402

_RECORDER = Recorder()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # every test under tests/e2e is an e2e test; the leak scan runs last whatever the file order
    here = Path(__file__).resolve().parent
    last = []
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("leak_scan"):
            last.append(item)
    for item in last:
        items.remove(item)
        items.append(item)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leak_scan: the session-wide token leak scan (always ordered last)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _RECORDER.timings:
        terminalreporter.section("netsso e2e timings")
        for name, values in sorted(_RECORDER.timings.items()):
            shown = ", ".join(f"{v:.2f}" for v in values)
            terminalreporter.write_line(f"{name}: {shown} s (min {min(values):.2f})")


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    return _RECORDER


@pytest.fixture(scope="session")
def captured_outputs(recorder: Recorder) -> list[tuple[str, str]]:
    return recorder.outputs


@pytest.fixture(scope="session")
def seen_tokens(recorder: Recorder) -> set[str]:
    return recorder.tokens


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def oidc_provider(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[OIDCProvider]:
    try:
        op = OIDCProvider(pki, tmp_path_factory.mktemp("oidc")).start()
    except ProviderStartError as exc:
        unavailable(f"OpenID Provider unavailable: {exc}")
    yield op
    recorder.tokens.update(op.minted)
    op.stop()


@pytest.fixture
def provider(oidc_provider: OIDCProvider) -> Iterator[OIDCProvider]:
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> Iterator[IsolatedHome]:
    h = IsolatedHome.create(tmp_path / "home")
    for key in list(os.environ):
        if key not in h.env:
            monkeypatch.delenv(key, raising=False)
    for key, value in h.env.items():
        monkeypatch.setenv(key, value)
    yield h
    recorder.tokens.update(h.cached_tokens())


@pytest.fixture
def browser() -> Iterator[Browser]:
    missing = chromium_available()
    if missing:
        unavailable(missing)
    b = Browser()
    yield b
    b.quit()


@pytest.fixture
def browser_command(tmp_path: Path) -> BrowserCommand:
    missing = chromium_available()
    if missing:
        unavailable(missing)
    return BrowserCommand(tmp_path / "browser-command")


@pytest.fixture
def apiserver(provider: OIDCProvider, pki: TestPKI, recorder: Recorder) -> Iterator[FakeAPIServer]:
    api = FakeAPIServer(provider.issuer, pki.ca_cert, provider.client_id, tls=(pki.leaf_cert, pki.leaf_key)).start()
    yield api
    recorder.tokens.update(api.tokens_seen)
    api.stop()


@pytest.fixture
def kubeconfig(home: IsolatedHome, apiserver: FakeAPIServer, provider: OIDCProvider) -> Path:
    return write_kubeconfig(home.kubeconfig, server=apiserver.url, ca_path=apiserver.ca_path, issuer=provider.issuer,
                            client_id=provider.client_id, provider_ca=provider.ca_path)


@pytest.fixture
def run_netsso(home: IsolatedHome, recorder: Recorder) -> Any:
    exe = shutil.which("kubectl-netsso", path=home.env["PATH"])
    if exe is None:
        unavailable("kubectl-netsso is not installed (pip install -e .)")

    def run(*args: str, env: dict[str, str] | None = None, label: str | None = None,
            **kw: Any) -> subprocess.CompletedProcess[str]:
        full_env = dict(home.env)
        full_env.update(env or {})
        return recorder.run([exe, *args], env=full_env, label=label or f"kubectl-netsso {' '.join(args[:1])}",
                            stdout_is_credential=bool(args[:1] == ("get-token",)), **kw)

    return run


@pytest.fixture
def run_kubectl(home: IsolatedHome, recorder: Recorder) -> Any:
    exe = shutil.which("kubectl", path=home.env["PATH"])
    if exe is None:
        unavailable("kubectl is not installed", installed_by_test_script=False)

    def run(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        full_env = dict(home.env)
        full_env.update(env or {})
        return recorder.run([exe, *args], env=full_env, label=f"kubectl {' '.join(args[:2])}", **kw)

    return run


@pytest.fixture
def secret_service(home: IsolatedHome, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """A private D-Bus session with an unlocked gnome-keyring; its address is put into `home.env` and os.environ."""
    missing = secret_service_missing()
    if missing:
        unavailable(missing)
    svc = SecretService(home.env).start()
    home.env["DBUS_SESSION_BUS_ADDRESS"] = svc.address
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", svc.address)
    yield svc
    svc.stop()
