"""Drop a project's cached flag definitions whenever one of its flags, group types or cohorts changes
(cohort definitions are cached with the flags that reference them)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cohorts.models import Cohort
from flags.cache import team_flags_invalidate
from flags.models import FeatureFlag, GroupTypeMapping


@receiver(post_save, sender=FeatureFlag)
@receiver(post_delete, sender=FeatureFlag)
@receiver(post_save, sender=GroupTypeMapping)
@receiver(post_delete, sender=GroupTypeMapping)
@receiver(post_save, sender=Cohort)
@receiver(post_delete, sender=Cohort)
def invalidate_flag_cache(sender: type, instance: Any, **kwargs: Any) -> None:
    team_flags_invalidate(team_id=instance.team_id)
