"""Offline checks of the deployment files: Dockerfile, docker-compose.yml and deploy/k8s.

Neither a Docker engine nor a cluster is needed. The real tools render the files (tests/deploy/
tools.py): `kubectl kustomize` builds deploy/k8s; `docker compose config` validates docker-compose.yml
against the Compose Specification and interpolates it. Kubernetes resources are validated against
the schemas that kubernetes-validate ships; everything else ties the files to the code they deploy:
package directories, settings fields, health endpoints, service names, the migrate command. A renamed
setting or a new service therefore fails here, not at the first production rollout.
"""

import asyncio
import importlib
import ipaddress
import json
import os
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonpatch
import jsonpointer
import kubernetes_validate
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crm_cli.main import SERVICE_NAMES
from gateway.config import Settings as GatewaySettings
from shared.settings import ServiceSettings
from tests.deploy.tools import K8S, KUSTOMIZATION_DIRS, compose_config, compose_model, compose_render, kustomize_build

ROOT = Path(__file__).resolve().parents[2]
BASE = K8S / "base"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The newest Kubernetes schema set shipped with the installed kubernetes-validate.
K8S_VERSION = kubernetes_validate.latest_version()

SERVICES = tuple(SERVICE_NAMES)
IMAGE = "crm-platform"
PORT = 8000
MEMORY_LIMIT_MAX = 256 * 2**20
SECRET_NAME = "crm-secrets"
# Variables that are not settings but that the image itself reads: which service the Dockerfile
# CMD runs, and the proxies uvicorn believes.
IMAGE_ENV = {"SERVICE", "FORWARDED_ALLOW_IPS"}
# Settings that hold secrets: their values must never be written into a manifest or compose file.
SECRET_SETTINGS = {"CRM_JWT_PUBLIC_KEY", "CRM_JWT_PRIVATE_KEY", "CRM_IDENTITY_PEPPER", "CRM_SURVEY_TOKEN_KEY"}
# Which of them each service needs (beyond those every service needs).
SERVICE_SECRETS = {"feedback": {"CRM_SURVEY_TOKEN_KEY"}, "gateway": {"CRM_JWT_PRIVATE_KEY"}}
COMMON_SECRETS = {"CRM_JWT_PUBLIC_KEY", "CRM_IDENTITY_PEPPER"}
# The Kafka user of the console's operator actions, which the gateway logs in with for those only.
OPERATOR = "crm-operator"


# --- shared helpers --------------------------------------------------------------------------------


@cache
def settings_class(service: str) -> type[ServiceSettings]:
    return importlib.import_module(f"{service}.config").Settings


def setting_env_names(cls: type[ServiceSettings]) -> set[str]:
    prefix = cls.model_config["env_prefix"]
    return {f"{prefix}{name}".upper() for name in cls.model_fields}


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def fake_private_key() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def fake_public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def clear_crm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("CRM_"):
            monkeypatch.delenv(name)


def build_settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """Settings exactly as the service would read them from this process environment."""
    clear_crm_env(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings_class(service)()


def quantity(value: str | int) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|K|M|G)?", str(value))
    assert match, f"unparseable quantity {value!r}"
    factor = {None: 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}[match[2]]
    return float(match[1]) * factor


def resource_id(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# Custom resources of the Strimzi operator: kubernetes-validate has no schemas for them, so
# tests/deploy/test_strimzi.py validates them instead.
STRIMZI_GROUP = "kafka.strimzi.io"


def is_strimzi(doc: dict[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).startswith(f"{STRIMZI_GROUP}/")


# --- Kubernetes: the raw files and what `kubectl kustomize` renders from them ----------------------


def is_kustomization(path: Path) -> bool:
    return path.name in {"kustomization.yaml", "kustomization.yml", "Kustomization"}


K8S_FILES = sorted(p for p in K8S.rglob("*") if p.suffix in {".yaml", ".yml"} and not is_kustomization(p))
RAW_RESOURCES = [(path, doc) for path in K8S_FILES for doc in load_docs(path)]


def kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert data["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and data["kind"] == "Kustomization"
    return data


def pod_containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def split_image(image: str) -> tuple[str, str | None]:
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:  # no tag, or the colon belonged to a registry port
        return image, None
    return name, tag


def base() -> tuple[dict[str, Any], ...]:
    return kustomize_build(BASE)


def base_of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in base() if d["kind"] == kind}


def deployment(service: str) -> dict[str, Any]:
    return base_of_kind("Deployment")[service]


def main_container(service: str) -> dict[str, Any]:
    containers = deployment(service)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{service}: expected one application container"
    return containers[0]


def configmaps() -> dict[str, dict[str, str]]:
    return {name: doc.get("data", {}) for name, doc in base_of_kind("ConfigMap").items()}


def envfrom_values(container: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "only ConfigMaps may be loaded wholesale, never Secrets"
        name = source["configMapRef"]["name"]
        assert name in configmaps(), f"envFrom references missing ConfigMap {name!r}"
        values.update(configmaps()[name])
    return values


K8S_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def effective_env(container: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """The environment the kubelet would build, with $(VAR) expanded from earlier variables."""
    env = dict(envfrom_values(container))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = K8S_REF.sub(lambda m: env.get(m[1], m[0]), item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["key"]]
    return env


def fake_k8s_secrets() -> dict[str, str]:
    values = {
        "jwt-public-key": fake_public_key(), "jwt-private-key": fake_private_key(),
        "identity-pepper": "pepper-for-manifest-tests-0123456789",
        "survey-token-key": "survey-key-for-manifest-tests-0123",
    }
    values.update({f"{s}-database-password": f"pw{s}0123" for s in SERVICES})
    values["password"] = "scram-password-of-the-kafka-user"  # key of every Strimzi KafkaUser Secret
    return values


def container_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in named, f"port {port!r} is not a named port of container {container['name']}"
    return named[port]


# --- Kubernetes: files, schemas, kustomize -----------------------------------------------------------


def test_k8s_tree_has_a_base_with_resources() -> None:
    assert (BASE / "kustomization.yaml").is_file()
    assert len(RAW_RESOURCES) >= 2 * len(SERVICES), "expected at least a Deployment and a Service per service"
    for path, doc in RAW_RESOURCES:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), f"{path}: not a Kubernetes resource"


K8S_CORE_RESOURCES = [(path, doc) for path, doc in RAW_RESOURCES if not is_strimzi(doc)]


@pytest.mark.parametrize(
    ("path", "doc"),
    K8S_CORE_RESOURCES,
    ids=[f"{p.relative_to(K8S)}:{resource_id(d)}" for p, d in K8S_CORE_RESOURCES],
)
def test_resource_matches_kubernetes_schema(path: Path, doc: dict[str, Any]) -> None:
    # strict: unknown fields (a typo such as `readinesProbe`) are errors, not silently dropped.
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_base_manifest_is_listed_in_the_kustomization() -> None:
    listed = {(BASE / e).resolve() for e in kustomization(BASE)["resources"]}
    present = {p.resolve() for p in BASE.iterdir() if p.suffix in {".yaml", ".yml"} and not is_kustomization(p)}
    assert present - listed == set(), "manifests in base/ that kustomize would never apply"


@pytest.mark.parametrize("directory", KUSTOMIZATION_DIRS, ids=[str(d.relative_to(K8S)) for d in KUSTOMIZATION_DIRS])
def test_rendered_kustomization_matches_kubernetes_schema(
    directory: Path, kustomize_builds: dict[Path, tuple[dict[str, Any], ...]]
) -> None:
    # A missing, duplicate or non-kustomization entry under `resources` already fails the build.
    docs = kustomize_builds[directory]
    assert docs, f"{directory}: renders no resources"
    ids = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(ids) == len(set(ids)), f"{directory}: duplicate resources {ids}"
    for doc in docs:
        if is_strimzi(doc):
            continue  # test_strimzi.py
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        if doc["kind"] == "Deployment":
            for container in pod_containers(doc):
                name, tag = split_image(container["image"])
                unpinned = f"{directory}: unpinned image {container['image']}"
                assert name.endswith(IMAGE) and tag and tag != "latest", unpinned


@pytest.mark.parametrize("directory", KUSTOMIZATION_DIRS, ids=[str(d.relative_to(K8S)) for d in KUSTOMIZATION_DIRS])
def test_kustomization_transformers_all_take_effect(
    directory: Path, kustomize_builds: dict[Path, tuple[dict[str, Any], ...]]
) -> None:
    """kustomize silently skips an images entry or a patch that matches nothing, and lets a JSON
    patch `replace` a path that does not exist: a renamed resource or field would go unnoticed."""
    spec = kustomization(directory)
    docs = kustomize_builds[directory]
    images = [c["image"] for d in docs if d["kind"] == "Deployment" for c in pod_containers(d)]
    for image in spec.get("images", []):
        expected = f"{image.get('newName', image['name'])}:{image['newTag']}"
        assert expected in images, f"{directory}: images entry {image['name']!r} matches no container"
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for replicas in spec.get("replicas", []):
        assert deployments[replicas["name"]]["spec"]["replicas"] == replicas["count"], replicas
    # What the patches apply to: the resources of this kustomization, before its own transformers.
    before = [d for entry in spec.get("resources", []) for d in (
        kustomize_build((directory / entry).resolve()) if (directory / entry).is_dir() else load_docs(directory / entry)
    )]
    for patch in spec.get("patches", []):
        target = patch["target"]
        matches = [d for d in before if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        assert len(matches) == 1, f"{directory}: patch target {target} matches {len(matches)} resources"
        ops = yaml.safe_load(patch["patch"])
        assert isinstance(ops, list), f"{directory}: patches must be RFC 6902 JSON patches"
        try:  # strict RFC 6902: replacing or removing a missing path is an error
            jsonpatch.apply_patch(matches[0], ops)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise AssertionError(f"{directory}: patch on {target} does not apply: {error}") from error
        [rendered] = [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        for op in ops:
            if op["op"] in {"add", "replace"} and not op["path"].endswith("/-"):
                assert jsonpointer.resolve_pointer(rendered, op["path"]) == op["value"], f"{directory}: {op}"


def test_base_namespace_is_declared() -> None:
    namespace = kustomization(BASE)["namespace"]
    assert namespace in base_of_kind("Namespace")
    labels = base_of_kind("Namespace")[namespace]["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"


def test_no_secret_values_are_committed() -> None:
    kinds = {doc["kind"] for _, doc in RAW_RESOURCES}
    assert "Secret" not in kinds, "Secrets are created by the operator (see deploy/k8s/README.md), never committed"


# --- Kubernetes: one Deployment and Service per service ---------------------------------------------


def test_every_service_has_a_deployment_and_a_service() -> None:
    assert set(base_of_kind("Deployment")) == set(SERVICES)
    assert set(base_of_kind("Service")) == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_routes_to_the_deployment_pods(service: str) -> None:
    template_labels = deployment(service)["spec"]["template"]["metadata"]["labels"]
    selector = deployment(service)["spec"]["selector"]["matchLabels"]
    assert selector.items() <= template_labels.items()
    svc = base_of_kind("Service")[service]
    assert svc["spec"]["selector"].items() <= template_labels.items()
    container = main_container(service)
    assert container["name"] == service
    for port in svc["spec"]["ports"]:
        assert port["port"] == PORT
        assert container_port(container, port.get("targetPort", port["port"])) == PORT


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_service_from_the_shared_image(service: str) -> None:
    container = main_container(service)
    assert split_image(container["image"])[0] == IMAGE
    # The image CMD starts uvicorn for $SERVICE; overriding it would bypass that contract.
    assert "command" not in container and "args" not in container
    assert {e["name"]: e.get("value") for e in container["env"]}.get("SERVICE") == service
    assert container_port(container, "http") == PORT


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_use_the_health_endpoints(service: str) -> None:
    container = main_container(service)

    def probe(name: str) -> tuple[str, int]:
        assert name in container, f"{service}: no {name}"
        http = container[name]["httpGet"]
        return http["path"], container_port(container, http["port"])

    assert probe("livenessProbe") == ("/health/live", PORT)
    assert probe("readinessProbe") == ("/health/ready", PORT)
    if "startupProbe" in container:
        # A startup probe on readiness would restart pods for as long as the database is down.
        assert probe("startupProbe") == ("/health/live", PORT)


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_is_locked_down(service: str) -> None:
    pod = deployment(service)["spec"]["template"]["spec"]
    pod_sc = pod.get("securityContext", {})
    assert pod.get("automountServiceAccountToken") is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in pod_containers(deployment(service)):
        sc = {**pod_sc, **container.get("securityContext", {})}
        where = f"{service}/{container['name']}"
        assert sc.get("runAsNonRoot") is True, where
        assert sc.get("runAsUser", 1) != 0, where
        assert sc.get("readOnlyRootFilesystem") is True, where
        assert sc.get("allowPrivilegeEscalation") is False, where
        assert not sc.get("privileged"), where
        assert "ALL" in sc.get("capabilities", {}).get("drop", []), where
        assert not sc.get("capabilities", {}).get("add"), where
        assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert mounts.get("/tmp") in tmp_volumes, f"{where}: /tmp must be a writable emptyDir"


@pytest.mark.parametrize("service", SERVICES)
def test_pod_user_matches_the_image_user(service: str) -> None:
    pod_sc = deployment(service)["spec"]["template"]["spec"]["securityContext"]
    uid, _, gid = dockerfile_user().partition(":")
    assert str(pod_sc["runAsUser"]) == uid
    if gid:
        assert str(pod_sc["runAsGroup"]) == gid


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_sets_requests_and_limits(service: str) -> None:
    for container in pod_containers(deployment(service)):
        where = f"{service}/{container['name']}"
        resources = container.get("resources", {})
        requests, limits = resources.get("requests", {}), resources.get("limits", {})
        assert {"cpu", "memory"} <= set(requests), f"{where}: requests"
        assert {"cpu", "memory"} <= set(limits), f"{where}: limits"
        assert quantity(limits["memory"]) <= MEMORY_LIMIT_MAX, f"{where}: memory limit above 256Mi"
        assert quantity(requests["memory"]) <= quantity(limits["memory"]), where
        assert quantity(requests["cpu"]) <= quantity(limits["cpu"]), where


@pytest.mark.parametrize("service", SERVICES)
def test_init_container_migrates_with_the_service_environment(service: str) -> None:
    init = deployment(service)["spec"]["template"]["spec"].get("initContainers", [])
    assert len(init) == 1, f"{service}: expected exactly one init container (the migration)"
    migrate, app = init[0], main_container(service)
    assert [*migrate.get("command", []), *migrate.get("args", [])] == ["crm", "migrate", service]
    assert migrate["image"] == app["image"]
    # Production settings validation runs in `crm migrate` too, so it needs the very same settings.
    assert migrate.get("envFrom") == app.get("envFrom")
    app_env = [e for e in app["env"] if e["name"] not in IMAGE_ENV]
    assert migrate.get("env") == app_env


@pytest.mark.parametrize("service", SERVICES)
def test_env_names_are_settings_fields(service: str) -> None:
    known = setting_env_names(settings_class(service))
    for container in pod_containers(deployment(service)):
        names = [e["name"] for e in container.get("env", [])]
        assert len(names) == len(set(names)), f"{service}/{container['name']}: duplicate env names"
        referenced = {ref for e in container.get("env", []) for ref in K8S_REF.findall(e.get("value", ""))}
        for name in [*names, *envfrom_values(container)]:
            if name.startswith("CRM_"):
                assert name in known, f"{service}/{container['name']}: {name} is not a setting of {service}"
            else:
                # Plain variables exist only to assemble a setting ($(VAR)) or for the image itself.
                assert name in referenced or name in IMAGE_ENV, f"{service}/{container['name']}: unused {name}"


@pytest.mark.parametrize("service", SERVICES)
def test_env_references_are_defined_before_use(service: str) -> None:
    for container in pod_containers(deployment(service)):
        defined = set(envfrom_values(container))
        for item in container.get("env", []):
            for ref in K8S_REF.findall(item.get("value", "")):
                assert ref in defined, f"{service}/{container['name']}: $({ref}) used before it is defined"
            defined.add(item["name"])


# Kafka passwords (from KafkaUser Secrets) and the username variable each goes with.
KAFKA_LOGINS = {"CRM_KAFKA_SASL_PASSWORD": "CRM_KAFKA_SASL_USERNAME",
                "CRM_OPERATOR_KAFKA_SASL_PASSWORD": "CRM_OPERATOR_KAFKA_SASL_USERNAME"}


@pytest.mark.parametrize("service", SERVICES)
def test_secrets_come_from_the_operator_secret(service: str) -> None:
    readme = (K8S / "README.md").read_text()
    for container in pod_containers(deployment(service)):
        from_secret = set()
        for item in container.get("env", []):
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                if item["name"] in KAFKA_LOGINS:
                    # The Secret Strimzi's User Operator creates for the KafkaUser of the login: the
                    # service's own, or the console's operator (the gateway only).
                    user = service if item["name"] == "CRM_KAFKA_SASL_PASSWORD" else OPERATOR
                    assert service == "gateway" or user == service, f"{service}: {item['name']} is the gateway's"
                    assert ref == {"name": user, "key": "password"}, f"{service}: Kafka password from {ref}"
                    assert container["env"][container["env"].index(item) - 1] == {
                        "name": KAFKA_LOGINS[item["name"]], "value": user,
                    }
                    from_secret.add(item["name"])
                    continue
                assert ref["name"] == SECRET_NAME and not ref.get("optional")
                undocumented = f"Secret key {ref['key']!r} is not documented in deploy/k8s/README.md"
                assert f"`{ref['key']}`" in readme, undocumented
                from_secret.add(item["name"])
        needed = COMMON_SECRETS | SERVICE_SECRETS.get(service, set()) | {"CRM_KAFKA_SASL_PASSWORD"} | (
            {"CRM_OPERATOR_KAFKA_SASL_PASSWORD"} if service == "gateway" else set())
        assert needed <= from_secret, f"{service}/{container['name']}: secret settings must use secretKeyRef"
        url = next(e["value"] for e in container["env"] if e["name"] == "CRM_DATABASE_URL")
        password = re.fullmatch(r"[\w+]+://[^:@/]+:([^@]+)@.+", url)
        assert password, f"{service}: CRM_DATABASE_URL must carry a password reference"
        assert K8S_REF.fullmatch(password[1]) and K8S_REF.fullmatch(password[1])[1] in from_secret, (
            f"{service}: the database password must come from the Secret, not the manifest"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_manifest_env_satisfies_production_settings(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = effective_env(main_container(service), fake_k8s_secrets())
    assert not [v for v in env.values() if K8S_REF.search(v)], "unexpanded $(VAR) left"
    settings = build_settings(service, env, monkeypatch)
    assert settings.environment == "production"
    assert settings.auto_migrate is False
    assert settings.service_name == service
    config = configmaps()["crm-config"]
    assert settings.database == (
        f"postgresql+asyncpg://{service}:pw{service}0123@{config['DATABASE_HOST']}:{config['DATABASE_PORT']}/{service}"
    )
    assert settings.kafka_bootstrap == config["CRM_KAFKA_BOOTSTRAP"]
    assert_operator_login(service, settings, fake_k8s_secrets()["password"])


def assert_operator_login(service: str, settings: ServiceSettings, password: str) -> None:
    """The console's operator actions log in as the operator's Kafka user; only the gateway has a
    console, and the operator's login is never a service's own."""
    assert settings.kafka_sasl_username != OPERATOR
    if service == "gateway":
        assert isinstance(settings, GatewaySettings)
        assert settings.operator_kafka_sasl_username == OPERATOR
        assert settings.operator_kafka_sasl_password.get_secret_value() == password
    else:
        assert "operator_kafka_sasl_username" not in type(settings).model_fields


@pytest.mark.parametrize("service", SERVICES)
def test_prometheus_scrapes_the_metrics_endpoint(service: str) -> None:
    annotations = deployment(service)["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/path") == "/metrics"
    assert int(annotations.get("prometheus.io/port", 0)) == PORT


BACKENDS = tuple(s for s in SERVICES if s != "gateway")


def callers_of(backend: str) -> set[str]:
    """The services that call `backend`: those with a `<backend>_url` setting."""
    return {s for s in SERVICES if f"{backend}_url" in settings_class(s).model_fields}


@pytest.mark.parametrize("service", BACKENDS)
def test_only_the_services_that_call_a_service_and_prometheus_reach_it(service: str) -> None:
    """A member's or a till's token sent straight to a service would skip what the gateway alone
    checks, so each service's port takes the pods of its callers (from the settings: a new
    `<service>_url` must be allowed here) and Prometheus, nothing else."""
    template_labels = deployment(service)["spec"]["template"]["metadata"]["labels"]
    policies = [p for p in base_of_kind("NetworkPolicy").values()
                if p["spec"]["podSelector"]["matchLabels"].items() <= template_labels.items()]
    assert len(policies) == 1, f"{service}: expected one NetworkPolicy selecting its pods"
    spec = policies[0]["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    [rule] = spec["ingress"]
    assert [container_port(main_container(service), p["port"]) for p in rule["ports"]] == [PORT]
    in_namespace = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["from"]
                    if "namespaceSelector" not in peer}
    assert in_namespace == callers_of(service) and "gateway" in in_namespace
    elsewhere = [peer for peer in rule["from"] if "namespaceSelector" in peer]
    assert elsewhere == [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]


def test_the_gateway_takes_any_caller() -> None:
    gateway_labels = deployment("gateway")["spec"]["template"]["metadata"]["labels"]
    assert not [p for p in base_of_kind("NetworkPolicy").values()
                if p["spec"]["podSelector"]["matchLabels"].items() <= gateway_labels.items()]


def test_configmap_holds_only_common_non_secret_settings() -> None:
    config = configmaps()["crm-config"]
    assert config["CRM_ENVIRONMENT"] == "production"
    assert config["CRM_AUTO_MIGRATE"] == "false"
    common = setting_env_names(ServiceSettings)
    for key in config:
        if key.startswith("CRM_"):
            # Loaded into every service, so it must be a setting they all have.
            assert key in common, f"ConfigMap key {key} is not a common setting"
    assert not (SECRET_SETTINGS | {"CRM_DATABASE_URL"}) & set(config), "secrets do not belong in a ConfigMap"
    assert not [k for k in config if re.search(r"PASSWORD|SECRET|PEPPER|TOKEN", k)]


def test_gateway_urls_point_at_cluster_services(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = build_settings("gateway", effective_env(main_container("gateway"), fake_k8s_secrets()), monkeypatch)
    services = base_of_kind("Service")
    for backend in (s for s in SERVICES if s != "gateway"):
        url = getattr(settings, f"{backend}_url")
        match = re.fullmatch(r"http://([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)", url)
        assert match and match[1] == backend, f"{backend}_url={url!r}"
        assert int(match[2]) in {p["port"] for p in services[backend]["spec"]["ports"]}


def test_gateway_takes_the_callers_address_and_scheme_from_the_ingress() -> None:
    # The throttles of sign-ins and token exchanges count per caller address, and the console's
    # cookies are Secure over https: behind the Ingress both come from its forwarded headers.
    env = {e["name"]: e.get("value") for e in main_container("gateway")["env"]}
    trusted = env.get("FORWARDED_ALLOW_IPS")
    assert trusted and "*" not in trusted, trusted
    for network in trusted.split(","):
        assert ipaddress.ip_network(network.strip()).is_private, network


def test_gateway_is_autoscaled_and_protected_from_disruption() -> None:
    gateway = deployment("gateway")
    # The HPA owns the replica count; a fixed value would be re-applied over it on every apply.
    assert "replicas" not in gateway["spec"]
    labels = gateway["spec"]["template"]["metadata"]["labels"]

    hpas = list(base_of_kind("HorizontalPodAutoscaler").values())
    assert len(hpas) == 1
    hpa = hpas[0]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa["metrics"])

    pdbs = list(base_of_kind("PodDisruptionBudget").values())
    assert len(pdbs) == 1
    selector = pdbs[0]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    for other in (s for s in SERVICES if s != "gateway"):
        assert not selector.items() <= deployment(other)["spec"]["template"]["metadata"]["labels"].items()


# --- docker-compose.yml ---------------------------------------------------------------------------------
# `docker compose config` (tools.py) validates the file against the Compose Specification and
# normalizes it: anchors and merge keys resolved, long syntax for ports, volumes and depends_on,
# absolute paths. The checks read that model with every `${VAR...}` as written, or as compose
# itself interpolates it from fake variables.

# How the file writes a variable: only to check that secrets are required, never defaulted.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
# Kafka's SCRAM users: one per service, one for a POS vendor, one for the console's operator
# actions (OPERATOR), the admin (broker and kafka-init).
KAFKA_USERS = (*SERVICES, "pos-vendor", OPERATOR)
KAFKA_PASSWORD_VARS = {f"KAFKA_{u.upper().replace('-', '_')}_PASSWORD" for u in (*KAFKA_USERS, "admin")}
# The settings a Kafka password is given to, each from the variable of its user's password.
KAFKA_PASSWORD_SETTINGS = {"CRM_KAFKA_SASL_PASSWORD", "CRM_OPERATOR_KAFKA_SASL_PASSWORD"}
COMPOSE_SECRET_VARS = {"POSTGRES_PASSWORD", *SECRET_SETTINGS, *KAFKA_PASSWORD_VARS, *KAFKA_PASSWORD_SETTINGS}
CRM_CONTAINERS = (*SERVICES, *(f"migrate-{s}" for s in SERVICES))


def compose_services() -> dict[str, dict[str, Any]]:
    return compose_model()["services"]


def tree_strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in tree_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in tree_strings(v)]
    return [node] if isinstance(node, str) else []


def compose_env(name: str, model: dict[str, Any] | None = None) -> dict[str, str]:
    env = (model or compose_model())["services"][name].get("environment", {})
    inherited = sorted(k for k, v in env.items() if v is None)
    assert not inherited, f"{name}: {inherited} would be taken from the Docker host's environment"
    return env


def fake_compose_vars() -> dict[str, str]:
    return {
        "POSTGRES_PASSWORD": "composepw0123",
        "CRM_JWT_PUBLIC_KEY": fake_public_key(),
        "CRM_JWT_PRIVATE_KEY": fake_private_key(),
        "CRM_IDENTITY_PEPPER": "pepper-for-compose-tests-0123456789",
        "CRM_SURVEY_TOKEN_KEY": "survey-key-for-compose-tests-0123",
        "CRM_PUBLIC_URL": "https://crm.example.cn",
        **{name: f"scram-{name.lower()}" for name in KAFKA_PASSWORD_VARS},
    }


@cache
def compose_with_fake_secrets() -> tuple[dict[str, str], dict[str, Any]]:
    """Fake values of every variable, and the model compose interpolates from them."""
    variables = fake_compose_vars()
    return variables, compose_render(variables)


def depends_on(name: str) -> dict[str, dict[str, Any]]:
    return compose_services()[name].get("depends_on", {})


def test_compose_has_infrastructure_migrations_and_services() -> None:
    expected = {"postgres", "kafka", "kafka-init", *CRM_CONTAINERS}
    assert set(compose_services()) == expected


def test_compose_every_service_has_an_image() -> None:
    services = compose_services()
    for name, spec in services.items():
        assert spec.get("image") or spec.get("build"), f"{name}: neither image nor build"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["image"].split(":")[1].startswith("16")
    crm = [services[n] for n in CRM_CONTAINERS]
    assert len({spec["image"] for spec in crm}) == 1, "all CRM containers must share one image"
    for spec in crm:
        build = spec["build"]
        assert (Path(build["context"]) / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve()


def test_compose_waits_only_for_health_that_is_checked() -> None:
    # compose itself rejects an unknown depends_on target or condition; not a target without a check.
    services = compose_services()
    for name in services:
        for target, spec in depends_on(name).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health, which has no check"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service_starts_after_its_migration(service: str) -> None:
    deps = depends_on(service)
    assert deps[f"migrate-{service}"]["condition"] == "service_completed_successfully"
    # kafka-init waits for the broker's health; its users and ACLs must exist before a service logs in.
    assert deps["kafka-init"]["condition"] == "service_completed_successfully"
    migrate = compose_services()[f"migrate-{service}"]
    assert migrate["command"] == ["crm", "migrate", service]
    assert migrate.get("restart", "no") == "no"
    assert depends_on(f"migrate-{service}")["postgres"]["condition"] == "service_healthy"
    service_env = {k: v for k, v in compose_env(service).items() if k not in IMAGE_ENV}
    assert compose_env(f"migrate-{service}") == service_env


def test_compose_long_running_services_have_healthchecks() -> None:
    for name, spec in compose_services().items():
        if name.startswith("migrate-") or spec.get("restart") == "no":  # one-shot jobs
            continue
        check = spec.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        if name in SERVICES:
            text = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
            assert f"127.0.0.1:{PORT}/health/ready" in text, f"{name}: healthcheck must use /health/ready"


def test_compose_publishes_only_the_gateway() -> None:
    for name, spec in compose_services().items():
        if name != "gateway":
            assert not spec.get("ports"), f"{name} must not be reachable from outside the compose network"
    ports = [(p.get("host_ip"), p["published"], p["target"], p["protocol"]) for p in compose_services()["gateway"]["ports"]]
    assert ports == [(None, str(PORT), PORT, "tcp")]


@pytest.mark.parametrize("service", SERVICES)
def test_compose_env_names_are_settings_fields(service: str) -> None:
    known = setting_env_names(settings_class(service))
    env = compose_env(service)
    assert env.get("SERVICE") == service
    for name in env:
        assert name in known or name in IMAGE_ENV, f"{service}: {name} is not a setting of {service}"
    assert env["CRM_ENVIRONMENT"] == "production"
    assert env["CRM_AUTO_MIGRATE"] == "false"


def test_compose_secrets_are_required_interpolations() -> None:
    for name in compose_services():
        for key, value in compose_env(name).items():
            if key in COMPOSE_SECRET_VARS:
                match = INTERPOLATION.fullmatch(value)
                # A service's Kafka password comes from the variable of its own user, the console's
                # operator login (the gateway's) from the operator's.
                service = name.removeprefix("migrate-")
                var = {"CRM_KAFKA_SASL_PASSWORD": f"KAFKA_{service.upper()}_PASSWORD",
                       "CRM_OPERATOR_KAFKA_SASL_PASSWORD": "KAFKA_CRM_OPERATOR_PASSWORD"}.get(key, key)
                assert key != "CRM_OPERATOR_KAFKA_SASL_PASSWORD" or service == "gateway", f"{name}: the operator login is the gateway's"
                assert match and match["name"] == var and match["op"] == ":?" and match["arg"], (
                    f"{name}: {key} must be ${{{key}:?message}}, never a literal or a default"
                )
            elif re.search(r"PASSWORD|SECRET|PEPPER|TOKEN|PRIVATE", key):
                raise AssertionError(f"{name}: unexpected secret-looking variable {key}")
        url = compose_env(name).get("CRM_DATABASE_URL")
        if url is not None:
            password = re.fullmatch(r"[\w+]+://[^:@/]+:(\$\{[^}]+\})@.+", url)
            assert password, f"{name}: the database password must be interpolated"
            assert INTERPOLATION.fullmatch(password[1])["op"] == ":?"
    # Every mention of a secret variable anywhere in the file must be the required form.
    for value in tree_strings(compose_model()):
        for match in INTERPOLATION.finditer(value):
            if match["name"] in COMPOSE_SECRET_VARS:
                assert match["op"] == ":?", f"{match[0]} would fall back to an empty or default secret"
        assert not re.search(r"(?<!\$)\$(?![{$])[A-Za-z_]", value.replace("$$", "")), f"use ${{VAR}}, not $VAR: {value}"


def test_compose_refuses_to_start_without_secrets() -> None:
    complete, rendered = compose_with_fake_secrets()
    for missing in COMPOSE_SECRET_VARS - KAFKA_PASSWORD_SETTINGS:  # not compose variables themselves
        for variables in ({k: v for k, v in complete.items() if k != missing}, {**complete, missing: ""}):
            result = compose_config(variables)
            assert result.returncode != 0, f"docker compose accepts an unset or empty {missing}"
            # compose names the variable and prints the file's message for it
            assert re.search(rf"required variable {missing} is missing a value: \S", result.stderr), result.stderr
    assert not [s for s in tree_strings(rendered) if INTERPOLATION.search(s)]


@pytest.mark.parametrize("service", SERVICES)
def test_compose_env_satisfies_production_settings(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variables, rendered = compose_with_fake_secrets()
    settings = build_settings(service, compose_env(service, rendered), monkeypatch)
    assert settings.environment == "production" and settings.auto_migrate is False
    assert settings.database == f"postgresql+asyncpg://crm:{variables['POSTGRES_PASSWORD']}@postgres:5432/{service}"
    kafka_env = compose_env("kafka", rendered)
    advertised = {listener.split("://", 1)[1] for listener in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    assert settings.kafka_bootstrap in advertised
    assert (settings.kafka_security_protocol, settings.kafka_sasl_mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert settings.kafka_sasl_username == service
    assert settings.kafka_sasl_password.get_secret_value() == variables[f"KAFKA_{service.upper()}_PASSWORD"]
    assert_operator_login(service, settings, variables["KAFKA_CRM_OPERATOR_PASSWORD"])
    if service == "gateway":
        for backend in (s for s in SERVICES if s != "gateway"):
            assert getattr(settings, f"{backend}_url") == f"http://{backend}:{PORT}"


def test_compose_kafka_authenticates_every_client_and_authorizes_by_acl() -> None:
    env = compose_env("kafka")
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    for name, address in listeners.items():
        if protocols[name] == "PLAINTEXT":  # only KRaft's own listener, unreachable from outside
            assert name == env["KAFKA_CONTROLLER_LISTENER_NAMES"] and address.startswith("127.0.0.1:"), name
        else:
            assert protocols[name] in {"SASL_PLAINTEXT", "SASL_SSL"}, name
    for advertised in env["KAFKA_ADVERTISED_LISTENERS"].split(","):
        assert protocols[advertised.split("://")[0]] in {"SASL_PLAINTEXT", "SASL_SSL"}
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:admin", "User:ANONYMOUS"}
    script = compose_script("kafka")
    assert "--add-scram" in script and "SCRAM-SHA-512=[name=admin" in script


def compose_script(name: str) -> str:
    """The script a container runs from a bind-mounted directory of this repository."""
    spec = compose_services()[name]
    command = spec["command"]
    for mount in spec.get("volumes", []):
        source = Path(mount["source"])
        if mount["type"] == "bind" and source.is_relative_to(ROOT) and command[-1].startswith(mount["target"] + "/"):
            return (source / command[-1].removeprefix(mount["target"] + "/")).read_text()
    raise AssertionError(f"{name}: command {command} runs no mounted script")


def kafka_grants() -> dict[str, set[tuple[str, str, str]]]:
    """(operation, resource type, name) granted to each user by kafka-init's script."""
    script = compose_script("kafka-init")
    grants: dict[str, set[tuple[str, str, str]]] = {}
    for line in script.splitlines():
        match = re.fullmatch(r"\s*allow (\S+) (\w+) (topic|group) (\S+)", line)
        if match:
            users = SERVICES if match[1] == '"$service"' else (match[1],)
            for user in users:
                grants.setdefault(user, set()).add((match[2], match[3], match[4]))
    return grants


def test_compose_kafka_init_creates_a_user_per_service_and_the_pos_vendor() -> None:
    script = compose_script("kafka-init")
    created = dict(re.findall(r"^user (\S+) \"\$\{(\w+):\?\}\"$", script, flags=re.MULTILINE))
    assert created == {u: f"KAFKA_{u.upper().replace('-', '_')}_PASSWORD" for u in KAFKA_USERS}
    assert set(compose_env("kafka-init")) == KAFKA_PASSWORD_VARS
    for topic in ("crm.pos.purchases", "crm.members.events", "crm.points.events", "crm.feedback.events",
                  "crm.campaigns.events", "crm.gateway.events", "crm.dead-letter", "crm.relay-heartbeat"):
        assert re.search(rf"^topic {re.escape(topic)} \d+$", script, flags=re.MULTILINE), topic


# Who owns (writes) which topic: docs/architecture.md.
TOPIC_OWNERS = {"gateway": {"crm.pos.purchases", "crm.gateway.events"}, "members": {"crm.members.events"},
                "points": {"crm.points.events"}, "feedback": {"crm.feedback.events"}, "campaigns": {"crm.campaigns.events"}}


def consumed_types(service: str) -> set[str]:
    """The event types the service's consumer handles, one at a time or in batches, from its own code."""
    try:
        module = importlib.import_module(f"{service}.consumers")
    except ModuleNotFoundError:
        return set()
    settings = settings_class(service)()
    batched = module.batch_handlers(settings, lambda: None) if hasattr(module, "batch_handlers") else {}
    return set(module.handlers(settings, lambda: None)) | set(batched)


def test_compose_acls_let_each_principal_write_only_its_own_topic() -> None:
    from shared.events.registry import REGISTRY

    grants = kafka_grants()
    for user in KAFKA_USERS:
        writes = {name for op, kind, name in grants[user] if op == "Write"}
        reads = {name for op, kind, name in grants[user] if op == "Read" and kind == "topic"}
        groups = {name for op, kind, name in grants[user] if op == "Read" and kind == "group"}
        if user == "pos-vendor":
            assert writes == {"crm.pos.purchases"} and not reads and not groups
            continue
        if user == OPERATOR:  # tests/deploy/test_strimzi.py checks its grants against the console's code
            continue
        expected_writes = {"crm.dead-letter", "crm.relay-heartbeat"} | TOPIC_OWNERS.get(user, set())
        assert writes == expected_writes, user
        # Reads follow the code: the topics of the types the service's consumer handles.
        handlers = consumed_types(user)
        assert reads == {REGISTRY[t].topic for t in handlers}, user
        assert groups == ({user} if handlers else set()), user
    # Nobody but the owner writes an owner's topic, and the operator's dead-letter replays.
    for owner, topics in TOPIC_OWNERS.items():
        for topic in topics:
            assert [u for u in KAFKA_USERS if ("Write", "topic", topic) in grants[u]] == (
                [owner, "pos-vendor", OPERATOR] if topic == "crm.pos.purchases" else [owner, OPERATOR]
            )


def test_compose_postgres_user_matches_database_urls() -> None:
    user = compose_env("postgres")["POSTGRES_USER"]
    for service in SERVICES:
        assert compose_env(service)["CRM_DATABASE_URL"].startswith(f"postgresql+asyncpg://{user}:")


def test_compose_postgres_init_creates_one_database_per_service() -> None:
    mounts = compose_services()["postgres"]["volumes"]
    init = [m for m in mounts if m["target"].startswith("/docker-entrypoint-initdb.d")]
    assert len(init) == 1 and init[0]["type"] == "bind"
    source = Path(init[0]["source"])
    assert source.is_dir() and source.resolve().is_relative_to((ROOT / "deploy" / "compose").resolve())
    sql = " ".join(p.read_text() for p in sorted(source.glob("*.sql")))
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?([a-z_]+)\"?", sql, flags=re.IGNORECASE))
    assert created == set(SERVICES)
    for service in SERVICES:
        assert compose_env(service)["CRM_DATABASE_URL"].rsplit("/", 1)[1] == service


def test_compose_bind_mounts_exist() -> None:
    # compose itself rejects a named volume that is not declared; a missing host path it would create.
    for name, spec in compose_services().items():
        for volume in spec.get("volumes", []):
            assert volume["type"] in {"volume", "bind"}, f"{name}: unexpected {volume['type']} volume"
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: bind mount {volume['source']} does not exist"


def test_compose_crm_containers_are_hardened() -> None:
    for name in CRM_CONTAINERS:
        spec = compose_services()[name]
        assert spec.get("read_only") is True, name
        assert "/tmp" in spec.get("tmpfs", []), name
        assert "ALL" in spec.get("cap_drop", []), name
        assert "no-new-privileges:true" in spec.get("security_opt", []), name


def test_compose_env_example_documents_every_required_variable() -> None:
    example = (ROOT / "deploy" / "compose" / "crm.env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", example, flags=re.MULTILINE))
    for name in COMPOSE_SECRET_VARS - KAFKA_PASSWORD_SETTINGS:  # set per service from KAFKA_<USER>_PASSWORD
        assert name in assigned, f"{name} missing from crm.env.example"
        assert assigned[name] == "", f"crm.env.example must not carry a value for {name}"


# --- Dockerfile -----------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_user() -> str:
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    assert users, "the image must not run as root"
    return users[-1]


PACKAGE_DIRS = {
    p.parent.relative_to(ROOT).as_posix()
    for p in [ROOT / "shared/pyproject.toml", ROOT / "cli/pyproject.toml", *ROOT.glob("services/*/pyproject.toml")]
}


def test_dockerfile_builds_from_python_slim() -> None:
    bases = [rest.split()[0] for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases)


def test_dockerfile_installs_every_package_non_editable() -> None:
    installs = [rest for keyword, rest in dockerfile_instructions() if keyword == "RUN" and "pip install" in rest]
    assert installs, "no pip install in the Dockerfile"
    paths = []
    for command in installs:
        args = command.split("pip install", 1)[1].split("&&")[0].split()
        assert "-e" not in args and "--editable" not in args, "editable installs need the source tree at runtime"
        paths += [a for a in args if a.startswith("./")]
    for path in paths:
        assert (ROOT / path / "pyproject.toml").is_file(), f"{path} is not a package directory"
    assert {p.removeprefix("./").rstrip("/") for p in paths} == PACKAGE_DIRS


def test_dockerfile_copies_what_it_installs() -> None:
    sources = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            parts = [p for p in rest.split() if not p.startswith("--")]
            sources += parts[:-1]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY source {source} does not exist"
    for package in PACKAGE_DIRS:
        copied = any(package == s or package.startswith(s.rstrip("/") + "/") for s in sources)
        assert copied, f"{package} is never copied into the build stage"
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    if "*" in patterns:
        for source in sources:
            assert f"!{source}" in patterns, f".dockerignore excludes COPY source {source}"
    for private in (".env", ".venv", ".git", ".crm-data"):
        assert f"!{private}" not in patterns


def test_dockerfile_runs_as_a_numeric_non_root_user() -> None:
    uid, _, gid = dockerfile_user().partition(":")
    # Kubernetes can only verify runAsNonRoot against a numeric user.
    assert uid.isdigit() and int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_dockerfile_cmd_starts_the_selected_service() -> None:
    cmds = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    assert len(cmds) == 1
    argv = json.loads(cmds[0])  # exec form, so that the process gets signals directly
    script = argv[2] if argv[:2] == ["sh", "-c"] else " ".join(argv)
    target = r"\"?\$\{SERVICE[^}]*\}\.main:create_app\"?"
    assert re.fullmatch(rf"(exec )?uvicorn {target} --factory --host 0\.0\.0\.0 --port {PORT} --no-access-log", script), script


def test_cli_provides_the_migrate_command() -> None:
    pyproject = tomllib.loads((ROOT / "cli" / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["crm"] == "crm_cli.main:main"
    from crm_cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["migrate", "--help"])
    assert exit_info.value.code == 0


@pytest.mark.parametrize("service", SERVICES)
def test_image_entrypoint_serves_the_probed_paths(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the image CMD runs for SERVICE=<service>: its app factory must exist and expose the
    # endpoints the probes, healthchecks and scrape annotations rely on. Building the app opens
    # nothing; connections are made only by its lifespan. (As a test's: built as the process's
    # app, it would send this test process's logs to its own JSON handler.)
    clear_crm_env(monkeypatch)
    create_app = importlib.import_module(f"{service}.main").create_app
    app = create_app(settings_class(service)(environment="test"))
    documented = set(app.openapi()["paths"])
    assert {"/health/live", "/health/ready"} <= documented

    # /metrics is outside the OpenAPI schema, so ask for it (and for liveness). Neither needs the
    # lifespan, which the ASGI transport does not run: no database or broker is contacted.
    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            return await client.get(path)

    assert asyncio.run(get("/health/live")).status_code == 200
    metrics = asyncio.run(get("/metrics"))
    assert metrics.status_code == 200 and "crm_http_request_seconds" in metrics.text


def test_only_the_gateway_holds_the_token_signing_key() -> None:
    """A compromised service must not be able to mint tokens for the others."""
    for service in SERVICES:
        k8s_names = {item["name"] for c in pod_containers(deployment(service)) for item in c.get("env", [])}
        compose_names = set(compose_env(service)) | set(compose_env(f"migrate-{service}"))
        holds = "CRM_JWT_PRIVATE_KEY" in k8s_names, "CRM_JWT_PRIVATE_KEY" in compose_names
        assert holds == ((True, True) if service == "gateway" else (False, False)), f"{service}: {holds}"
