"""Every console route that changes something checks the form's CSRF token: a route that reads no
form (a button) still depends on the check (`session.CHECKED`), or another site could post it with
the staff member's cookie."""

from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant

from gateway.api.console.session import console_form
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import generate_keypair
from tests.support.routes import api_routes

pytestmark = pytest.mark.unit


def _calls(dependant: Dependant) -> set[object]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def test_every_console_post_checks_the_csrf_token(tmp_path: Path) -> None:
    app = create_app(Settings(environment="test", data_dir=tmp_path, jwt_public_key=generate_keypair()[1]))
    changing = [route for route in api_routes(app.routes) if route.path.startswith("/console") and route.methods - {"GET", "HEAD"}]

    unchecked = [f"{sorted(route.methods)} {route.path}" for route in changing if console_form not in _calls(route.dependant)]

    assert len(changing) > 30  # the walk found the console's forms
    assert unchecked == []
