#!/bin/bash
# Starts the compose broker with SCRAM-SHA-512 authentication. In KRaft mode the first SCRAM user
# (the admin, also used between broker listeners) can only be created when the storage is
# formatted, so this wraps the image's own start-up: write server.properties from the KAFKA_*
# variables as the image does, add the admin's login, format with the admin's credentials, start.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"

. /etc/kafka/docker/bash-config
. /etc/kafka/docker/configureDefaults
. /etc/kafka/docker/configure

# Written here rather than as an environment variable: the property name contains dashes.
echo "listener.name.broker.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"${KAFKA_ADMIN_PASSWORD}\";" \
  >> /opt/kafka/config/server.properties

# Client settings for the admin, used by the healthcheck and by kafka-init.
cat > /tmp/admin.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPS

/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  -c /opt/kafka/config/server.properties \
  --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
exec /opt/kafka/bin/kafka-server-start.sh /opt/kafka/config/server.properties
