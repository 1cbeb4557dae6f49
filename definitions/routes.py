"""Project-scoped routes of this app: (prefix, viewset, basename).

Mounted under both /api/projects/:id/ and /api/environments/:id/.
"""

from definitions.views.activity_log import ActivityLogViewSet
from definitions.views.event_definitions import EventDefinitionViewSet
from definitions.views.property_definitions import PropertyDefinitionViewSet
from definitions.views.schemas import EventSchemaViewSet, SchemaPropertyGroupViewSet

PROJECT_ROUTES: list = [
    ("event_definitions", EventDefinitionViewSet, "event_definitions"),
    ("property_definitions", PropertyDefinitionViewSet, "property_definitions"),
    ("schema_property_groups", SchemaPropertyGroupViewSet, "schema_property_groups"),
    ("event_schemas", EventSchemaViewSet, "event_schemas"),
    ("activity_log", ActivityLogViewSet, "activity_log"),
]
