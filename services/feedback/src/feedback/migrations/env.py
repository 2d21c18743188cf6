from feedback.adapters.tables import TABLES
from shared.migrations import run_env

run_env(TABLES)
