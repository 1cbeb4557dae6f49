# The models Person and PersonDistinctId move here from the ingestion app. Only Django's state moves: the
# tables ingestion 0001 created keep their names (the models set db_table), rows and constraints, on an
# existing database and on a fresh one alike. ingestion 0002 removes the models from ingestion's state.

import django.db.models.deletion
import posthog_clone.utils
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('ingestion', '0001_initial'),  # creates the tables
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Person',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uuid', models.UUIDField(default=posthog_clone.utils.uuid7, editable=False, unique=True)),
                        ('properties', models.JSONField(default=dict)),
                        ('is_identified', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField()),
                        ('version', models.BigIntegerField(default=0)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='persons', to='accounts.team')),
                    ],
                    options={
                        'db_table': 'ingestion_person',
                    },
                ),
                migrations.CreateModel(
                    name='PersonDistinctId',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('distinct_id', models.CharField(max_length=400)),
                        ('version', models.BigIntegerField(default=0)),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='distinct_ids', to='persons.person')),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.team')),
                    ],
                    options={
                        'db_table': 'ingestion_persondistinctid',
                    },
                ),
                migrations.AddIndex(
                    model_name='person',
                    index=models.Index(fields=['team', 'created_at'], name='ingestion_p_team_id_019f68_idx'),
                ),
                migrations.AddConstraint(
                    model_name='persondistinctid',
                    constraint=models.UniqueConstraint(fields=('team', 'distinct_id'), name='unique_distinct_id_per_team'),
                ),
            ],
        ),
    ]
