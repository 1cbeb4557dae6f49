"""A survey write (or one of the flags it names) drops the in-process cache of served surveys."""

from django.db.models.signals import post_delete, post_save

from surveys.models import Survey
from surveys.selectors import served_surveys_clear

post_save.connect(served_surveys_clear, sender=Survey, dispatch_uid="surveys-served-save")
post_delete.connect(served_surveys_clear, sender=Survey, dispatch_uid="surveys-served-delete")
post_save.connect(served_surveys_clear, sender="flags.FeatureFlag", dispatch_uid="surveys-served-flag-save")
