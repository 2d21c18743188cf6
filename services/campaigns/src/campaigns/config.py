from functools import lru_cache

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "campaigns"


@lru_cache
def get_settings() -> Settings:
    return Settings()
