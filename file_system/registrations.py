"""The domain objects that have a tree representation (PostHog's table in §B15), registered at start-up.

Insights, dashboards, experiments... register here as those apps appear.
"""

from __future__ import annotations

from django.db.models import QuerySet

from file_system.sync import Representation, Syncable, register
from flags.models import FeatureFlag
from posthog_clone.accounts.models import Team


def feature_flag_representation(flag: FeatureFlag) -> Representation:
    return Representation(
        team_id=flag.team_id,
        ref=str(flag.pk),
        name=flag.key,
        href=f"/feature_flags/{flag.pk}",
        meta={"created_at": str(flag.created_at), "created_by": flag.created_by_id},
        created_at=flag.created_at,
        created_by_id=flag.created_by_id,
        should_delete=flag.deleted,
    )


def live_feature_flags(team: Team) -> QuerySet[FeatureFlag]:
    return FeatureFlag.objects.filter(team=team, deleted=False)


def register_all() -> None:
    register(
        Syncable(
            type="feature_flag",
            model=FeatureFlag,
            base_folder="Unfiled/Feature Flags",
            represent=feature_flag_representation,
            live=live_feature_flags,
        )
    )
