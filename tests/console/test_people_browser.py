"""People, Cohorts and the flag edit form in Debian's headless Chromium (playwright-core): sign in, search a
person (typed, submitted with Enter) and open them with the keyboard, see their properties and recent events,
open one of their cohorts and see its members, set a flag's rollout to 0 and see /flags answer false, and see
a bad variant split refused on the form. Screenshots go to the test's tmp dir and /tmp/console-shots/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from console.services import user_set_password
from flags.models import FeatureFlag
from persons.models import PersonDistinctId
from tests.browser import needs_browser, run_node
from tests.console.conftest import PASSWORD
from tests.console.test_people import ago, capture

SCRIPT = Path(__file__).parent / "js" / "people_walk.mjs"
SHOTS = Path("/tmp/console-shots")

pytestmark = [
    pytest.mark.node,
    pytest.mark.clickhouse,
    pytest.mark.django_db(transaction=True),
    needs_browser("playwright-core"),
]


@pytest.mark.usefixtures("console_libraries")
def test_people_cohort_and_flag_edit_in_chromium(live_server: Any, project: Any, tmp_path: Path) -> None:
    user_set_password(user=project.user, password=PASSWORD)
    capture(project, [
        ("$pageview", "dana-id", {"$set": {"email": "dana@shop.example", "name": "Dana Scully", "plan": "team"},
                                  "$current_url": "https://shop/", "timestamp": ago(hours=2)}),
        ("purchase", "dana-id", {"amount": 30, "timestamp": ago(hours=1)}),
        ("$pageview", "eve-id", {"$set": {"email": "eve@other.example"}, "timestamp": ago(hours=3)}),
    ])  # fmt: skip
    dana = PersonDistinctId.objects.get(team=project.team, distinct_id="dana-id").person
    created = project.client().post(f"/api/projects/{project.team.pk}/cohorts/",
                                    {"name": "Shop customers", "is_static": True,
                                     "_create_static_person_ids": [str(dana.uuid)]}, format="json")  # fmt: skip
    assert created.status_code == 201
    FeatureFlag.objects.create(team=project.team, key="new-checkout", filters={"groups": [{"rollout_percentage": 100}]})
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    arguments = {"baseUrl": live_server.url, "email": project.user.email, "password": PASSWORD,
                 "projectId": project.team.pk, "search": "shop.example", "cohortName": "Shop customers",
                 "flagKey": "new-checkout", "token": project.team.api_token, "distinctId": "dana-id",
                 "screenshots": str(screenshots)}  # fmt: skip
    report = run_node(SCRIPT, arguments, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in report["screenshots"].items():
        shutil.copy(path, SHOTS / Path(path).name)
        print(f"console screenshot {name}: {path} (copied to {SHOTS / Path(path).name})")
    assert (report["listedBefore"], report["listedAfter"]) == (2, 1)
    assert report["personHeading"] == "dana@shop.example"
    assert "plan" in report["properties"] and "team" in report["properties"]
    assert report["events"] == ["purchase", "$pageview"]
    assert (report["cohortHeading"], report["members"]) == ("Shop customers", 1)
    assert (report["flagsBefore"], report["flagsAfter"]) == (True, False)
    assert "Variant rollout percentages must sum to 100." in report["formError"]
    # the pinned libraries are fetched into var/ at install, not into the tests' throwaway VAR_DIR
    assert report["notFound"] == []  # the pinned libraries included
    assert [e for e in report["consoleErrors"] if "Content Security Policy" in e] == []
    assert all(Path(p).stat().st_size > 1000 for p in report["screenshots"].values())
