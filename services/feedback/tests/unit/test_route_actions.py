"""Every feedback route names exactly one action of the shared policy table, and the right one."""

from feedback.config import Settings
from feedback.main import create_app
from shared.authorize import Authorize, public
from shared.policy import POLICY
from tests.support.routes import api_routes

ROUTE_ACTIONS = {
    ("POST", "/v1/complaints"): "feedback.complaint.file",
    ("GET", "/v1/complaints"): "feedback.complaint.read",
    ("GET", "/v1/complaints/{complaint_id}"): "feedback.complaint.read",
    ("GET", "/v1/complaints/queue"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/acknowledge"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/start"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/resolve"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/close"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/assign"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/take"): "feedback.complaint.handle",
    ("POST", "/v1/complaints/{complaint_id}/reopen"): "feedback.complaint.comment",
    ("POST", "/v1/complaints/{complaint_id}/rating"): "feedback.complaint.comment",
    ("POST", "/v1/surveys/templates"): "feedback.survey.design",
    ("POST", "/v1/surveys/templates/{template_id}/default"): "feedback.survey.design",
    ("GET", "/v1/surveys/templates"): "feedback.survey.read",
    ("GET", "/v1/surveys/sent"): "feedback.survey.sent",
    ("GET", "/v1/surveys/invitations"): "feedback.survey.invitations",
    ("GET", "/v1/surveys/answers/{token}"): "feedback.survey.answer",
    ("POST", "/v1/surveys/answers/{token}"): "feedback.survey.answer",
    ("GET", "/v1/surveys/results"): "feedback.survey.results",
    ("POST", "/v1/comment-book"): "feedback.comment_book.use",
    ("GET", "/v1/comment-book"): "feedback.comment_book.use",
    ("POST", "/v1/comment-book/{entry_id}/complaint"): "feedback.comment_book.use",
    ("GET", "/v1/members/{member_id}/export"): "feedback.privacy.export",
    ("GET", "/v1/jobs"): "jobs.read",
    ("POST", "/v1/jobs/{name}/run"): "jobs.run",
}


def _guards(dependant) -> list:
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Authorize) or dep.call is public:
            found.append(dep.call)
        found += _guards(dep)
    return found


def _routes() -> dict[tuple[str, str], list]:
    app = create_app(Settings(environment="test"))
    return {
        (method, route.path): _guards(route.dependant)
        for route in api_routes(app.routes) if not route.path.startswith("/health")
        for method in route.methods
    }


def test_every_route_is_guarded_by_exactly_its_policy_action() -> None:
    routes = _routes()
    assert set(routes) == set(ROUTE_ACTIONS)
    for key, guards in routes.items():
        assert [type(g) for g in guards] == [Authorize], (key, guards)
        assert guards[0].action == ROUTE_ACTIONS[key], key


def test_every_feedback_action_of_the_policy_is_used_by_some_route() -> None:
    feedback_actions = {a for a in POLICY if a.startswith("feedback.")}
    assert feedback_actions == set(ROUTE_ACTIONS.values()) - {"jobs.read", "jobs.run"}
