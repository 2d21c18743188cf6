from functools import lru_cache

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gateway"
    members_url: str = "http://127.0.0.1:8001"
    points_url: str = "http://127.0.0.1:8002"
    campaigns_url: str = "http://127.0.0.1:8003"
    feedback_url: str = "http://127.0.0.1:8004"
    # Budget of each downstream call of an aggregated view: a slow service costs its section,
    # never the whole page.
    downstream_timeout_s: float = 2.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
