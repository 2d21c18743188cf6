"""Who handles a complaint: a VIP's account manager, otherwise the store's service desk queue."""


def desk_queue(store_id: str) -> str:
    return f"desk:{store_id}"


def store_manager_queue(store_id: str) -> str:
    return f"store_manager:{store_id}"


def assignee_for(store_id: str, tier: str | None, manager_id: str | None) -> str:
    if tier == "vip" and manager_id:
        return manager_id
    return desk_queue(store_id)
