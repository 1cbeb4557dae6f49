"""Editing a flag's rollout and variants on the console, checked by what the real /flags endpoint answers
afterwards; bad input (variants not summing to 100, a rollout out of range, a variant without a key) is the
form's 400 with the flags API's own message, never a 500, and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from flags.models import FeatureFlag

pytestmark = pytest.mark.django_db


def answer(project, distinct_id: str, key: str) -> dict:
    response = Client().post("/flags/?v=2", {"api_key": project.team.api_token, "distinct_id": distinct_id},
                             content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    return response.json()["flags"][key]


def edit_url(project, flag: FeatureFlag) -> str:
    return reverse("console:flag-edit", args=[project.team.pk, flag.pk])


def test_the_flags_list_links_each_flag_to_its_edit_form(project, signed_in) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="beta", filters={"groups": [{"rollout_percentage": 10}]})
    page = signed_in.get(reverse("console:flags", args=[project.team.pk])).content.decode()
    assert f'<a href="{edit_url(project, flag)}">Edit beta</a>' in page
    form = signed_in.get(edit_url(project, flag))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="rollout-0" value="10"' in html and '<label for="rollout-0"' in html
    assert 'name="variant-rows" value="2"' in html  # no variants yet: two empty rows to add them


def test_rollout_0_turns_the_flag_off_and_100_on_for_flags(project, signed_in) -> None:
    filters = {"groups": [{"properties": [], "rollout_percentage": 100}]}
    flag = FeatureFlag.objects.create(team=project.team, key="beta", filters=filters)
    assert answer(project, "user-1", "beta")["enabled"] is True
    saved = signed_in.post(edit_url(project, flag), {"rollout-0": "0", "variant-rows": "2"})
    assert saved.status_code == 302 and saved["Location"] == reverse("console:flags", args=[project.team.pk])
    flag.refresh_from_db()
    assert flag.filters["groups"] == [{"properties": [], "rollout_percentage": 0}] and flag.version == 2
    assert all(answer(project, f"user-{i}", "beta")["enabled"] is False for i in range(20))
    assert signed_in.post(edit_url(project, flag), {"rollout-0": "100", "variant-rows": "2"}).status_code == 302
    assert all(answer(project, f"user-{i}", "beta")["enabled"] is True for i in range(20))


def test_a_flag_without_conditions_gets_one_for_everyone(project, signed_in) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="empty", filters={"groups": []})
    assert answer(project, "user-1", "empty")["enabled"] is False
    assert "Everyone (new condition)" in signed_in.get(edit_url(project, flag)).content.decode()
    assert signed_in.post(edit_url(project, flag), {"rollout-0": "100", "variant-rows": "0"}).status_code == 302
    assert answer(project, "user-1", "empty")["enabled"] is True


def test_variants_edited_change_the_variant_flags_answers(project, signed_in) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="colour", filters={
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {"variants": [{"key": "red", "name": "Red", "rollout_percentage": 50},
                                      {"key": "blue", "rollout_percentage": 50}]},
        "payloads": {"red": '{"hex": "#f00"}', "blue": '{"hex": "#00f"}'}})  # fmt: skip
    html = signed_in.get(edit_url(project, flag)).content.decode()
    assert 'name="variant-key-0" value="red"' in html and 'name="variant-rollout-1" value="50"' in html
    # everyone to blue, red kept at 0, green added in an empty row
    form = {
        "rollout-0": "100",
        "variant-rows": "4",
        "variant-key-0": "red",
        "variant-rollout-0": "0",
        "variant-key-1": "blue",
        "variant-rollout-1": "100",
        "variant-key-2": "green",
        "variant-rollout-2": "0",
    }
    assert signed_in.post(edit_url(project, flag), form).status_code == 302
    flag.refresh_from_db()
    assert flag.filters["multivariate"]["variants"] == [
        {"key": "red", "rollout_percentage": 0, "name": "Red"},
        {"key": "blue", "rollout_percentage": 100},
        {"key": "green", "rollout_percentage": 0},
    ]
    assert {answer(project, f"user-{i}", "colour")["variant"] for i in range(20)} == {"blue"}
    # red removed by clearing its row: its payload goes with it; everyone now gets green
    form = {
        "rollout-0": "100",
        "variant-rows": "3",
        "variant-key-0": "",
        "variant-rollout-0": "",
        "variant-key-1": "blue",
        "variant-rollout-1": "0",
        "variant-key-2": "green",
        "variant-rollout-2": "100",
    }
    assert signed_in.post(edit_url(project, flag), form).status_code == 302
    flag.refresh_from_db()
    assert [v["key"] for v in flag.filters["multivariate"]["variants"]] == ["blue", "green"]
    assert flag.filters["payloads"] == {"blue": '{"hex": "#00f"}'}
    assert {answer(project, f"user-{i}", "colour")["variant"] for i in range(20)} == {"green"}
    # every row cleared: a boolean flag again
    assert signed_in.post(edit_url(project, flag), {"rollout-0": "100", "variant-rows": "3"}).status_code == 302
    boolean = answer(project, "user-1", "colour")
    assert boolean["enabled"] is True and boolean["variant"] is None
    flag.refresh_from_db()
    assert flag.filters["multivariate"] is None and flag.filters["payloads"] == {}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"variant-key-0": "a", "variant-rollout-0": "60", "variant-key-1": "b", "variant-rollout-1": "30"},
         "Variant rollout percentages must sum to 100."),
        ({"rollout-0": "150"}, "Rollout percentage must be a number between 0 and 100."),
        ({"rollout-0": "lots"}, "Rollout percentage must be a number between 0 and 100."),
        ({"variant-key-0": "", "variant-rollout-0": "100"}, "each variant needs a key"),
        ({"variant-key-0": "a", "variant-rollout-0": "-5", "variant-key-1": "b", "variant-rollout-1": "105"},
         "Rollout percentage must be a number between 0 and 100."),
    ],
)  # fmt: skip
def test_bad_input_is_the_forms_400_and_changes_nothing(project, signed_in, form, message) -> None:
    filters = {"groups": [{"properties": [], "rollout_percentage": 100}]}
    flag = FeatureFlag.objects.create(team=project.team, key="safe", filters=filters)
    response = signed_in.post(edit_url(project, flag), {"rollout-0": "100", "variant-rows": "2", **form})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and message in html
    for name, value in form.items():  # the form comes back as typed
        assert f'name="{name}" value="{value}"' in html or (name.startswith("variant") and not value)
    flag.refresh_from_db()
    assert flag.filters == filters and flag.version == 1
    assert answer(project, "user-1", "safe")["enabled"] is True


def test_the_same_sum_rule_as_the_api(project, signed_in) -> None:
    """The console's refusal is the API's: the same body PATCHed to /feature_flags/:id/ is a 400 with the same
    message."""
    flag = FeatureFlag.objects.create(team=project.team, key="same", filters={"groups": [{"properties": []}]})
    body = {"filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
                        "multivariate": {"variants": [{"key": "a", "rollout_percentage": 60},
                                                      {"key": "b", "rollout_percentage": 30}]}}}  # fmt: skip
    api = project.client().patch(f"/api/projects/{project.team.pk}/feature_flags/{flag.pk}/", body, format="json")
    assert api.status_code == 400
    console = signed_in.post(edit_url(project, flag), {"rollout-0": "100", "variant-rows": "2", "variant-key-0": "a",
                                                        "variant-rollout-0": "60", "variant-key-1": "b",
                                                        "variant-rollout-1": "30"})  # fmt: skip
    assert console.status_code == 400 and api.json()["detail"] in console.content.decode()


def test_other_organizations_and_anonymous_and_deleted(project, other_project, signed_in, other_signed_in) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="mine", filters={"groups": [{"rollout_percentage": 100}]})
    url = edit_url(project, flag)
    assert other_signed_in.get(url).status_code == 404
    assert other_signed_in.post(url, {"rollout-0": "0", "variant-rows": "0"}).status_code == 404
    theirs = FeatureFlag.objects.create(team=other_project.team, key="theirs", filters={"groups": []})
    assert signed_in.get(reverse("console:flag-edit", args=[project.team.pk, theirs.pk])).status_code == 404
    assert Client().get(url)["Location"].startswith(reverse("console:login"))
    assert Client().post(url, {"rollout-0": "0"}).status_code == 401
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(project.user)
    assert csrf.post(url, {"rollout-0": "0", "variant-rows": "0"}).status_code == 403
    flag.refresh_from_db()
    assert flag.version == 1
    FeatureFlag.objects.filter(pk=flag.pk).update(deleted=True)
    assert signed_in.get(url).status_code == 404
