"""JSON Schemas for the Strimzi custom resources in deploy/k8s: OURS, not Strimzi's.

No package on PyPI or npm ships Strimzi's CustomResourceDefinitions or their openAPIV3Schema (see
deploy/k8s/README.md), so these schemas are written by hand from the Strimzi 0.45 custom resource
API reference (kafka.strimzi.io/v1beta2). They cover the fields these manifests use, or could
reasonably use, with Strimzi's types and enums, and they are stricter than the CRDs in one way:
unknown fields are errors (`additionalProperties: false`) wherever we list the fields, so a typo
such as `autentication` fails here instead of being dropped by the API server. When a field is
needed that is not listed, add it from the API reference of the Strimzi version the cluster runs.
"""

from typing import Any

API_VERSION = "kafka.strimzi.io/v1beta2"

# Operations and resource types of Kafka ACLs, as KafkaUser's `simple` authorization accepts them.
ACL_OPERATIONS = ["Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
                  "DescribeConfigs", "IdempotentWrite", "All"]

QUANTITY = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}]}
RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": QUANTITY},
        "limits": {"type": "object", "additionalProperties": QUANTITY},
    },
}
JVM_OPTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "-Xms": {"type": "string", "pattern": "^[0-9]+[mMgG]?$"},
        "-Xmx": {"type": "string", "pattern": "^[0-9]+[mMgG]?$"},
        "-XX": {"type": "object", "additionalProperties": {"type": "string"}},
        "gcLoggingEnabled": {"type": "boolean"},
    },
}
# Pod and container templates are Kubernetes types; kubernetes-validate knows those, not this file.
TEMPLATE = {"type": "object"}
# Broker and topic configuration: Kafka's own keys, with scalar values.
KAFKA_CONFIG = {"type": "object", "additionalProperties": {"type": ["string", "integer", "number", "boolean"]}}

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def metadata(*, cluster_label: bool) -> dict[str, Any]:
    """ObjectMeta as written in a manifest; `strimzi.io/cluster` names the Kafka a resource belongs to."""
    labels: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
    if cluster_label:
        labels["required"] = ["strimzi.io/cluster"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", *(["labels"] if cluster_label else [])],
        "properties": {
            "name": {"type": "string", "maxLength": 253, "pattern": DNS_SUBDOMAIN},
            "namespace": {"type": "string"},
            "labels": labels,
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }


def resource(kind: str, spec: dict[str, Any], *, cluster_label: bool) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{kind} ({API_VERSION}), our schema",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": metadata(cluster_label=cluster_label),
            "spec": spec,
        },
    }


LISTENER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "port", "type", "tls"],
    "properties": {
        # Lower-case letters and digits, up to 11 characters; it names Services and ports.
        "name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
        # 9090, 9091 (replication), 9404 (metrics) and 9999 (JMX) are Strimzi's own.
        "port": {"type": "integer", "minimum": 9092, "maximum": 65535, "not": {"enum": [9404, 9999]}},
        "type": {"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]},
        "tls": {"type": "boolean"},
        "authentication": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {"type": {"enum": ["tls", "scram-sha-512", "oauth", "custom"]}},
        },
        "configuration": {"type": "object"},
        "networkPolicyPeers": {"type": "array", "items": {"type": "object"}},
    },
}

ENTITY_OPERATOR_PART = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "watchedNamespace": {"type": "string"},
        "reconciliationIntervalMs": {"type": "integer", "minimum": 0},
        "resources": RESOURCES,
        "jvmOptions": JVM_OPTIONS,
        "logging": {"type": "object"},
        "secretPrefix": {"type": "string"},
    },
}

KAFKA = resource(
    "Kafka",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["kafka"],
        "properties": {
            "kafka": {
                "type": "object",
                "additionalProperties": False,
                "required": ["listeners"],
                "properties": {
                    "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
                    "metadataVersion": {"type": "string", "pattern": r"^\d+\.\d+-IV\d+$"},
                    # No `replicas` or `storage`: with node pools they belong to the KafkaNodePool.
                    "listeners": {"type": "array", "minItems": 1, "items": LISTENER},
                    "authorization": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["type"],
                        "properties": {
                            "type": {"enum": ["simple", "opa", "keycloak", "custom"]},
                            "superUsers": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "config": KAFKA_CONFIG,
                    "rack": {"type": "object"},
                    "resources": RESOURCES,
                    "jvmOptions": JVM_OPTIONS,
                    "logging": {"type": "object"},
                    "metricsConfig": {"type": "object"},
                    "template": TEMPLATE,
                },
            },
            # ZooKeeper is not a valid part of a KRaft cluster.
            "entityOperator": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "topicOperator": ENTITY_OPERATOR_PART,
                    "userOperator": ENTITY_OPERATOR_PART,
                    "template": TEMPLATE,
                },
            },
            "clusterCa": {"type": "object"},
            "clientsCa": {"type": "object"},
            "cruiseControl": {"type": "object"},
            "kafkaExporter": {"type": "object"},
        },
    },
    cluster_label=False,
)

VOLUME = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "type": {"enum": ["ephemeral", "persistent-claim"]},
        "size": {"type": "string", "pattern": r"^[0-9]+(Ki|Mi|Gi|Ti)$"},
        "sizeLimit": {"type": "string"},
        "class": {"type": "string"},
        "deleteClaim": {"type": "boolean"},
        "kraftMetadata": {"enum": ["shared"]},
    },
    # A persistent claim needs a size.
    "if": {"properties": {"type": {"const": "persistent-claim"}}},
    "then": {"required": ["size"]},
}

KAFKA_NODE_POOL = resource(
    "KafkaNodePool",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["replicas", "roles", "storage"],
        "properties": {
            "replicas": {"type": "integer", "minimum": 0},
            "roles": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["controller", "broker"]}},
            "storage": {
                "oneOf": [
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["type", "volumes"],
                        "properties": {
                            "type": {"const": "jbod"},
                            "volumes": {
                                "type": "array", "minItems": 1,
                                "items": {"allOf": [VOLUME, {"required": ["id"]}]},
                            },
                        },
                    },
                    VOLUME,
                ],
            },
            "resources": RESOURCES,
            "jvmOptions": JVM_OPTIONS,
            "template": TEMPLATE,
        },
    },
    cluster_label=True,
)

KAFKA_TOPIC = resource(
    "KafkaTopic",
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "topicName": {"type": "string"},
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": KAFKA_CONFIG,
        },
    },
    cluster_label=True,
)

ACL_RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["resource", "operations"],
    "properties": {
        "resource": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                "name": {"type": "string", "minLength": 1},
                "patternType": {"enum": ["literal", "prefix"]},
            },
            # Every resource type but the cluster is named.
            "if": {"properties": {"type": {"not": {"const": "cluster"}}}},
            "then": {"required": ["name"]},
        },
        "type": {"enum": ["allow", "deny"]},
        "host": {"type": "string"},
        # `operation` (singular) is deprecated in v1beta2; only `operations` is accepted here.
        "operations": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ACL_OPERATIONS}},
    },
}

KAFKA_USER = resource(
    "KafkaUser",
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "authentication": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["tls", "tls-external", "scram-sha-512"]},
                    "password": {"type": "object"},
                },
            },
            "authorization": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "acls"],
                "properties": {"type": {"const": "simple"}, "acls": {"type": "array", "items": ACL_RULE}},
            },
            "quotas": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "producerByteRate": {"type": "integer", "minimum": 0},
                    "consumerByteRate": {"type": "integer", "minimum": 0},
                    "requestPercentage": {"type": "integer", "minimum": 0},
                    "controllerMutationRate": {"type": "number", "minimum": 0},
                },
            },
            "template": TEMPLATE,
        },
    },
    cluster_label=True,
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "Kafka": KAFKA,
    "KafkaNodePool": KAFKA_NODE_POOL,
    "KafkaTopic": KAFKA_TOPIC,
    "KafkaUser": KAFKA_USER,
}
