"""Dependencies of the members API beyond the shared ones."""

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require

# Who may register customers: the desk, their account managers, store managers and admins.
RegistrarDep = Annotated[
    Principal, Depends(require(Role.SERVICE_DESK, Role.ACCOUNT_MANAGER, Role.STORE_MANAGER, Role.ADMIN))
]
