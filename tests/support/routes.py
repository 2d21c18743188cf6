"""A service app's routes, as tests that check every route of a kind walk them."""

from fastapi.routing import APIRoute


def api_routes(routes: list[object]) -> list[APIRoute]:
    """The app's routes, through the routers it includes: FastAPI keeps an included router as one
    node (`original_router`), whose routes carry their router's prefix already."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found += api_routes(included.routes)
    return found
