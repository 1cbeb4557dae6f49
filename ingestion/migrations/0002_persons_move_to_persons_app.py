# Person and PersonDistinctId now belong to the persons app (persons 0001 took them over in Django's state).
# Their tables stay as they are: only ingestion's state forgets them. Their content types (and with them
# the admin permissions) follow them to the persons app.

from django.db import migrations


def content_types_to_persons(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    for model in ('person', 'persondistinctid'):
        if not ContentType.objects.filter(app_label='persons', model=model).exists():
            ContentType.objects.filter(app_label='ingestion', model=model).update(app_label='persons')


def content_types_to_ingestion(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    for model in ('person', 'persondistinctid'):
        if not ContentType.objects.filter(app_label='ingestion', model=model).exists():
            ContentType.objects.filter(app_label='persons', model=model).update(app_label='ingestion')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('ingestion', '0001_initial'),
        ('persons', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='PersonDistinctId'),
                migrations.DeleteModel(name='Person'),
            ],
        ),
        migrations.RunPython(content_types_to_persons, content_types_to_ingestion),
    ]
