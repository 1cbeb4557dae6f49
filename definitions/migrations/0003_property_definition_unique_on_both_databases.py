# The unique constraint on (team, name, type, group_type_index) used NULLS NOT DISTINCT, which SQLite does not
# support: Django skipped it there (system check models.W047 on every command) and SQLite kept no uniqueness at
# all. An index on COALESCE(group_type_index, -1) means the same and both databases enforce it.

from django.db import migrations, models
from django.db.models.functions import Coalesce


def drop_duplicates(apps, schema_editor):
    """Duplicates SQLite let in while it had no constraint: keep the first definition of each (the smallest
    uuid7, the oldest). PostgreSQL enforced the old constraint, so it has none."""
    if schema_editor.connection.vendor != "sqlite":
        return
    PropertyDefinition = apps.get_model("definitions", "PropertyDefinition")
    seen = set()
    duplicates = []
    rows = PropertyDefinition.objects.order_by("id").values_list("id", "team_id", "name", "type", "group_type_index")
    for pk, team_id, name, type_, group_type_index in rows.iterator():
        key = (team_id, name, type_, -1 if group_type_index is None else group_type_index)
        if key in seen:
            duplicates.append(pk)
        else:
            seen.add(key)
    for start in range(0, len(duplicates), 500):
        PropertyDefinition.objects.filter(id__in=duplicates[start : start + 500]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("definitions", "0002_tags_schemas_activity"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="propertydefinition",
            name="unique_property_definition",
        ),
        migrations.RunPython(drop_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="propertydefinition",
            constraint=models.UniqueConstraint(
                models.F("team"),
                models.F("name"),
                models.F("type"),
                Coalesce("group_type_index", models.Value(-1), output_field=models.IntegerField()),
                name="unique_property_definition",
            ),
        ),
    ]
