-- One database per service: each service owns its schema and its migration history, and none can
-- join across another's tables. The postgres entrypoint runs this once, when the data volume is
-- empty; a database added later has to be created by hand (or by dropping the volume).
CREATE DATABASE members;
CREATE DATABASE points;
CREATE DATABASE campaigns;
CREATE DATABASE feedback;
CREATE DATABASE gateway;
