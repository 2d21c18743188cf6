#!/bin/bash
# One-shot set-up of the compose broker, run by `kafka-init` as the admin: topics, one SCRAM user
# per service, one for a POS vendor and one for the console's operator actions, and the ACLs that
# let each service write only its own topic.
# Idempotent: users are (re)set, topics and ACLs that exist are left as they are.
# tests/deploy/test_manifests.py reads the `user`, `topic` and `allow` lines below.
set -euo pipefail
BOOTSTRAP=kafka:9092
CONFIG=/tmp/admin.properties
cat > "$CONFIG" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD:?}";
PROPS

user() {  # user <name> <password>
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" --alter \
    --entity-type users --entity-name "$1" --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}

topic() {  # topic <name> <partitions>
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" --create \
    --if-not-exists --topic "$1" --partitions "$2" --replication-factor 1
}

allow() {  # allow <user> <operation> topic|group <name>
  /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" --add \
    --allow-principal "User:$1" --operation "$2" "--$3" "$4"
}

# Created here, so no service needs the right to create topics (4 partitions, shared.kafka).
topic crm.pos.purchases 4
topic crm.members.events 4
topic crm.points.events 4
topic crm.feedback.events 4
topic crm.campaigns.events 4
topic crm.gateway.events 4
topic crm.dead-letter 4
topic crm.relay-heartbeat 1

user gateway "${KAFKA_GATEWAY_PASSWORD:?}"
user members "${KAFKA_MEMBERS_PASSWORD:?}"
user points "${KAFKA_POINTS_PASSWORD:?}"
user feedback "${KAFKA_FEEDBACK_PASSWORD:?}"
user campaigns "${KAFKA_CAMPAIGNS_PASSWORD:?}"
user pos-vendor "${KAFKA_POS_VENDOR_PASSWORD:?}"
user crm-operator "${KAFKA_CRM_OPERATOR_PASSWORD:?}"

# Every service: see the topics (provisioning lists them), write dead letters and relay heartbeats.
for service in gateway members points feedback campaigns; do
  /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" --add \
    --allow-principal "User:$service" --operation Describe --topic crm. --resource-pattern-type prefixed
  allow "$service" Write topic crm.dead-letter
  allow "$service" Write topic crm.relay-heartbeat
done

# Each service writes only the topic it owns and reads what it consumes (docs/architecture.md).
allow gateway Write topic crm.pos.purchases
# The sales and returns tills publish straight to Kafka: the gateway keeps their transaction ids.
allow gateway Read topic crm.pos.purchases
# The chain's stores, as kept at the gateway (campaigns names them in customer messages).
allow gateway Write topic crm.gateway.events
# Members' erasures: the gateway refuses an erased member's tokens.
allow gateway Read topic crm.members.events
allow gateway Read group gateway
allow members Write topic crm.members.events
allow members Read topic crm.pos.purchases
allow members Read topic crm.feedback.events
allow members Read group members
allow points Write topic crm.points.events
allow points Read topic crm.members.events
allow points Read topic crm.feedback.events
# Stores open or closed: no gift is reserved for pick-up at a closed store.
allow points Read topic crm.gateway.events
allow points Read group points
allow feedback Write topic crm.feedback.events
allow feedback Read topic crm.members.events
allow feedback Read group feedback
allow campaigns Write topic crm.campaigns.events
# The sender reads the campaigns' own message requests back from its topic.
allow campaigns Read topic crm.campaigns.events
allow campaigns Read topic crm.pos.purchases
allow campaigns Read topic crm.members.events
allow campaigns Read topic crm.points.events
# Resolved complaints (compensation) and survey invitations (the sender, survey campaigns).
allow campaigns Read topic crm.feedback.events
# Store names for customer messages.
allow campaigns Read topic crm.gateway.events
allow campaigns Read group campaigns

# A POS vendor publishing sales directly: the POS topic, nothing else (docs/events.md).
allow pos-vendor Describe topic crm.pos.purchases
allow pos-vendor Write topic crm.pos.purchases

# The console's operator actions, which the gateway runs with this login and nothing else
# (CRM_OPERATOR_KAFKA_SASL_USERNAME): read the dead letters; read every event topic and describe
# every service's group to count the lag; write the event topics to replay a dead letter onto the
# topic it came from. The same as the KafkaUser crm-operator of deploy/k8s.
allow crm-operator Read topic crm.dead-letter
allow crm-operator Read topic crm.pos.purchases
allow crm-operator Write topic crm.pos.purchases
allow crm-operator Read topic crm.members.events
allow crm-operator Write topic crm.members.events
allow crm-operator Read topic crm.points.events
allow crm-operator Write topic crm.points.events
allow crm-operator Read topic crm.feedback.events
allow crm-operator Write topic crm.feedback.events
allow crm-operator Read topic crm.campaigns.events
allow crm-operator Write topic crm.campaigns.events
allow crm-operator Read topic crm.gateway.events
allow crm-operator Write topic crm.gateway.events
allow crm-operator Describe group gateway
allow crm-operator Describe group members
allow crm-operator Describe group points
allow crm-operator Describe group feedback
allow crm-operator Describe group campaigns
