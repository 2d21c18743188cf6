"""Offline checks of the Strimzi resources in deploy/k8s: the Kafka cluster, its topics and users.

Every Strimzi resource in every rendered kustomization is validated against a JSON Schema of its
kind. Those schemas are ours (tests/deploy/strimzi_schemas.py), written from Strimzi's API
reference: no package on PyPI or npm ships Strimzi's CRDs. The other tests tie the resources to
the code and to the compose broker: topic names and partition counts, consumer groups, the ACLs
of deploy/compose/kafka/init.sh, and the bootstrap address and TLS settings the services use.
"""

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gateway.domain.event_flow import groups as event_flow_groups
from shared.events.registry import REGISTRY, Topics
from shared.kafka import DEFAULT_PARTITIONS
from shared.outbox import HEARTBEAT_TOPIC
from tests.deploy.strimzi_schemas import SCHEMAS
from tests.deploy.test_manifests import (
    BASE,
    K8S,
    KAFKA_USERS,
    KUSTOMIZATION_DIRS,
    OPERATOR,
    RAW_RESOURCES,
    SERVICES,
    TOPIC_OWNERS,
    base,
    compose_script,
    configmaps,
    consumed_types,
    deployment,
    is_strimzi,
    kustomization,
    pod_containers,
    resource_id,
    settings_class,
)

# The kinds these manifests declare; each needs a schema, and each must be present.
STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
PLATFORM_TOPICS = {value for name, value in vars(Topics).items() if name.isupper()} | {HEARTBEAT_TOPIC}
# Partitions the code gives a topic it creates itself: shared.kafka, and 1 for the heartbeat topic
# (shared.outbox writes every heartbeat to partition 0 and compares offsets across them).
CODE_PARTITIONS = {**dict.fromkeys(PLATFORM_TOPICS, DEFAULT_PARTITIONS), HEARTBEAT_TOPIC: 1}
PRODUCTION_REPLICAS = 3


def strimzi(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in base() if d["kind"] == kind and is_strimzi(d)}


def the_kafka() -> dict[str, Any]:
    clusters = strimzi("Kafka")
    assert len(clusters) == 1, f"expected one Kafka cluster, found {sorted(clusters)}"
    return next(iter(clusters.values()))


def client_listener() -> dict[str, Any]:
    listeners = the_kafka()["spec"]["kafka"]["listeners"]
    assert len(listeners) == 1, "one client listener: every client authenticates the same way"
    return listeners[0]


# --- schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STRIMZI_KINDS))
def test_strimzi_schema_is_a_valid_json_schema(kind: str) -> None:
    assert kind in SCHEMAS, f"no schema for {kind}: every Strimzi kind must be validated"
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[kind])


@pytest.mark.parametrize("directory", KUSTOMIZATION_DIRS, ids=[str(d.relative_to(K8S)) for d in KUSTOMIZATION_DIRS])
def test_rendered_strimzi_resources_match_their_schema(
    directory: Path, kustomize_builds: dict[Path, tuple[dict[str, Any], ...]]
) -> None:
    docs = [d for d in kustomize_builds[directory] if is_strimzi(d)]
    assert {d["kind"] for d in docs} == STRIMZI_KINDS, f"{directory}: Strimzi kinds rendered"
    for doc in docs:
        # A kind without a schema fails: nothing is let through unvalidated.
        assert doc["kind"] in SCHEMAS, f"{directory}: no schema for {resource_id(doc)}"
        validator = jsonschema.Draft202012Validator(SCHEMAS[doc["kind"]])
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{directory}: {resource_id(doc)} does not match its schema:\n" + "\n".join(errors)


def test_strimzi_schemas_reject_typos_and_unknown_values() -> None:
    """The schemas really are strict: a misspelt field or an unknown enum value fails."""
    user = next(iter(strimzi("KafkaUser").values()))
    broken = {**user, "spec": {**user["spec"], "autentication": {"type": "scram-sha-512"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMAS["KafkaUser"], cls=jsonschema.Draft202012Validator)
    listener = {**client_listener(), "authentication": {"type": "scram-sha-256"}}
    kafka = the_kafka()
    broken = {**kafka, "spec": {**kafka["spec"], "kafka": {**kafka["spec"]["kafka"], "listeners": [listener]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMAS["Kafka"], cls=jsonschema.Draft202012Validator)


def test_every_raw_strimzi_resource_is_rendered_by_the_base() -> None:
    raw = {resource_id(d) for _, d in RAW_RESOURCES if is_strimzi(d)}
    assert raw == {resource_id(d) for d in base() if is_strimzi(d)}


# --- the cluster -----------------------------------------------------------------------------------


def test_strimzi_resources_live_in_the_namespace_of_the_services() -> None:
    # The User Operator writes each KafkaUser's Secret in the KafkaUser's namespace, and the
    # Deployments read it from theirs; the entity operators watch the Kafka's namespace.
    namespace = kustomization(BASE)["namespace"]
    for doc in base():
        if is_strimzi(doc):
            assert doc["metadata"]["namespace"] == namespace, resource_id(doc)


def test_resources_name_the_kafka_cluster_they_belong_to() -> None:
    name = the_kafka()["metadata"]["name"]
    for kind in STRIMZI_KINDS - {"Kafka"}:
        for doc in strimzi(kind).values():
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == name, resource_id(doc)


def test_kafka_runs_kraft_with_node_pools() -> None:
    kafka = the_kafka()
    annotations = kafka["metadata"].get("annotations", {})
    assert annotations.get("strimzi.io/node-pools") == "enabled"
    assert annotations.get("strimzi.io/kraft") == "enabled"
    assert "zookeeper" not in kafka["spec"]
    pools = strimzi("KafkaNodePool").values()
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    # A quorum that survives one node down, and enough brokers for every replica of a topic.
    assert controllers >= 3 and controllers % 2 == 1, controllers
    assert brokers >= PRODUCTION_REPLICAS, brokers
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["min.insync.replicas"] == PRODUCTION_REPLICAS - 1
    for key in ("default.replication.factor", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor"):
        assert config[key] == PRODUCTION_REPLICAS, key


def test_kafka_authenticates_with_scram_over_tls_and_authorizes_by_acl() -> None:
    listener = client_listener()
    assert listener["tls"] is True
    assert listener["authentication"] == {"type": "scram-sha-512"}
    authorization = the_kafka()["spec"]["kafka"]["authorization"]
    assert authorization["type"] == "simple"
    # Strimzi's operators are super users through their certificates; nobody else bypasses ACLs.
    assert not authorization.get("superUsers")


def test_kafka_runs_the_topic_and_user_operators() -> None:
    entity = the_kafka()["spec"]["entityOperator"]
    assert "topicOperator" in entity and "userOperator" in entity
    # Watching another namespace would leave the topics and users here unmanaged.
    assert not entity["topicOperator"].get("watchedNamespace") and not entity["userOperator"].get("watchedNamespace")


def test_bootstrap_address_matches_the_kafka_listener() -> None:
    config = configmaps()["crm-config"]
    name, namespace = the_kafka()["metadata"]["name"], kustomization(BASE)["namespace"]
    service = f"{name}-kafka-bootstrap"
    hosts = {service, f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"}
    host, _, port = config["CRM_KAFKA_BOOTSTRAP"].rpartition(":")
    assert host in hosts and int(port) == client_listener()["port"], config["CRM_KAFKA_BOOTSTRAP"]
    assert config["CRM_KAFKA_SECURITY_PROTOCOL"] == ("SASL_SSL" if client_listener()["tls"] else "SASL_PLAINTEXT")
    assert config["CRM_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


@pytest.mark.parametrize("service", SERVICES)
def test_pods_trust_the_kafka_cluster_ca(service: str) -> None:
    cafile = Path(configmaps()["crm-config"]["CRM_KAFKA_SSL_CAFILE"])
    pod = deployment(service)["spec"]["template"]["spec"]
    ca_volumes = {
        v["name"] for v in pod.get("volumes", [])
        if v.get("secret", {}).get("secretName") == f"{the_kafka()['metadata']['name']}-cluster-ca-cert"
        and {"key": "ca.crt", "path": cafile.name} in v["secret"].get("items", [])
    }
    assert ca_volumes, f"{service}: no volume with the cluster CA certificate"
    for container in pod_containers(deployment(service)):
        mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
        mount = mounts.get(str(cafile.parent))
        assert mount and mount["name"] in ca_volumes and mount.get("readOnly"), f"{service}/{container['name']}"


# --- topics ----------------------------------------------------------------------------------------


def compose_topics() -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r"^topic (\S+) (\d+)$", compose_script("kafka-init"), re.MULTILINE)}


def test_a_kafka_topic_for_every_platform_topic() -> None:
    topics = strimzi("KafkaTopic")
    names = {doc["spec"].get("topicName", name) for name, doc in topics.items()}
    assert names == PLATFORM_TOPICS == set(compose_topics())
    assert {spec.topic for spec in REGISTRY} <= names


@pytest.mark.parametrize("topic", sorted(PLATFORM_TOPICS))
def test_kafka_topic_partitions_and_replicas(topic: str) -> None:
    doc = next(d for n, d in strimzi("KafkaTopic").items() if d["spec"].get("topicName", n) == topic)
    assert doc["spec"]["partitions"] == CODE_PARTITIONS[topic] == compose_topics()[topic]
    assert doc["spec"]["replicas"] == PRODUCTION_REPLICAS


# --- users and ACLs -------------------------------------------------------------------------------

Grant = tuple[str, str, str, str]  # (operation, resource type, name, pattern type)


def compose_grants() -> dict[str, set[Grant]]:
    """Every ACL deploy/compose/kafka/init.sh adds: its `allow` lines and its direct kafka-acls.sh
    calls (the prefixed Describe of every service, inside the loop over the services)."""
    script = compose_script("kafka-init")
    grants: dict[str, set[Grant]] = {}

    def add(principal: str, grant: Grant) -> None:
        for user in SERVICES if principal == '"$service"' else (principal,):
            grants.setdefault(user, set()).add(grant)

    for match in re.finditer(r"^\s*allow (\S+) (\w+) (topic|group) (\S+)\s*$", script, re.MULTILINE):
        add(match[1], (match[2], match[3], match[4], "literal"))
    direct = re.compile(
        r'--allow-principal "User:(\$service|[\w-]+)" --operation (\w+) --(topic|group) (\S+)'
        r"(?: --resource-pattern-type (\w+))?"
    )
    calls = re.findall(r"kafka-acls\.sh[^\n]*\\\n([^\n]+)", script)
    for call in calls:
        if "$1" in call:  # the body of allow() itself
            continue
        match = direct.search(call)
        assert match, f"kafka-init: ACL call not understood by the tests: {call.strip()}"
        principal = '"$service"' if match[1] == "$service" else match[1]
        pattern = {"prefixed": "prefix", None: "literal", "literal": "literal"}[match[5]]
        add(principal, (match[2], match[3], match[4], pattern))
    return grants


def user_grants(doc: dict[str, Any]) -> set[Grant]:
    grants = set()
    for rule in doc["spec"]["authorization"]["acls"]:
        assert rule.get("type", "allow") == "allow" and rule.get("host", "*") == "*", rule
        res = rule["resource"]
        for operation in rule["operations"]:
            grants.add((operation, res["type"], res["name"], res.get("patternType", "literal")))
    return grants


def test_a_kafka_user_for_every_service_the_pos_vendor_and_the_operator() -> None:
    assert set(strimzi("KafkaUser")) == set(KAFKA_USERS)
    for name, doc in strimzi("KafkaUser").items():
        assert doc["spec"]["authentication"] == {"type": "scram-sha-512"}, name
        assert doc["spec"]["authorization"]["type"] == "simple", name


def test_compose_grants_parser_reads_the_whole_script() -> None:
    grants = compose_grants()
    assert set(grants) == set(KAFKA_USERS)
    for service in SERVICES:
        assert ("Describe", "topic", "crm.", "prefix") in grants[service], service


@pytest.mark.parametrize("user", KAFKA_USERS)
def test_kafka_user_acls_equal_the_compose_acls(user: str) -> None:
    assert user_grants(strimzi("KafkaUser")[user]) == compose_grants()[user]


@pytest.mark.parametrize("user", KAFKA_USERS)
def test_kafka_user_acls_follow_the_code(user: str) -> None:
    grants = user_grants(strimzi("KafkaUser")[user])
    writes = {name for op, kind, name, _ in grants if op == "Write"}
    reads = {name for op, kind, name, _ in grants if op == "Read" and kind == "topic"}
    groups = {name for op, kind, name, _ in grants if op == "Read" and kind == "group"}
    if user == "pos-vendor":
        assert grants == {("Describe", "topic", Topics.POS_PURCHASES, "literal"),
                          ("Write", "topic", Topics.POS_PURCHASES, "literal")}
        return
    if user == OPERATOR:  # test_the_operator_user_has_exactly_what_the_console_needs
        return
    assert writes == {Topics.DEAD_LETTER, HEARTBEAT_TOPIC} | TOPIC_OWNERS.get(user, set())
    handlers = consumed_types(user)
    assert reads == {REGISTRY[t].topic for t in handlers}
    # The group the consumer joins (topic prefix + service name), and only when it consumes.
    assert groups == ({settings_class(user)().consumer_group} if handlers else set())
    # Nothing beyond reading, writing and describing: no Create, Alter, Delete or cluster rights.
    assert {op for op, *_ in grants} <= {"Read", "Write", "Describe"}
    assert {kind for _, kind, *_ in grants} <= {"topic", "group"}


def test_only_the_owner_writes_an_owned_topic() -> None:
    users = strimzi("KafkaUser")
    for owner, topics in TOPIC_OWNERS.items():
        for topic in topics:
            writers = sorted(u for u in users if ("Write", "topic", topic, "literal") in user_grants(users[u]))
            # Besides the owner, only the operator's dead-letter replays (and a POS vendor's sales).
            assert writers == sorted([owner, OPERATOR, "pos-vendor"] if topic == Topics.POS_PURCHASES else [owner, OPERATOR]), topic


def test_the_operator_user_has_exactly_what_the_console_needs() -> None:
    """Read the dead letters; read every event topic and describe every service's group (the
    event flow's lag, gateway.adapters.consumer_lag); write the topics a dead letter can come from,
    those the services consume (the replay). Nothing else: no cluster rights, no group Read (it
    never joins a group), no relay heartbeats or dead letters of its own."""
    grants = user_grants(strimzi("KafkaUser")[OPERATOR])
    replayable = {REGISTRY[t].topic for service in SERVICES for t in consumed_types(service)}
    groups = event_flow_groups(settings_class("gateway")().kafka_topic_prefix)
    assert grants == (
        {("Read", "topic", Topics.DEAD_LETTER, "literal")}
        | {("Read", "topic", topic, "literal") for topic in REGISTRY.topics()}
        | {("Write", "topic", topic, "literal") for topic in replayable}
        | {("Describe", "group", group, "literal") for group in groups}
    )
    # The groups measured are the services' own consumer groups.
    assert set(groups) == {settings_class(service)().consumer_group for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_logs_in_as_its_kafka_user(service: str) -> None:
    for container in pod_containers(deployment(service)):
        env = {e["name"]: e for e in container["env"]}
        assert env["CRM_KAFKA_SASL_USERNAME"]["value"] in strimzi("KafkaUser")
        assert env["CRM_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == service
        # Only the gateway (its console) gets the operator's login, and not as its own.
        if service == "gateway":
            assert env["CRM_OPERATOR_KAFKA_SASL_USERNAME"]["value"] == OPERATOR
            assert env["CRM_OPERATOR_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": OPERATOR, "key": "password"}
        else:
            assert not {"CRM_OPERATOR_KAFKA_SASL_USERNAME", "CRM_OPERATOR_KAFKA_SASL_PASSWORD"} & set(env), service
        assert env["CRM_KAFKA_SASL_USERNAME"]["value"] != OPERATOR, service
