"""The web console under /console/ (server-rendered pages; every view is guarded in console.security)."""

from django.urls import include, path

from console import flag_views, insights_views, people_views, recordings_views, sql_views, views

app_name = "console"
console_urls = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("project/<int:project_id>/activity/", views.activity, name="activity"),
    path("project/<int:project_id>/activity/events/", views.activity_events, name="activity-events"),
    path("project/<int:project_id>/activity/events/<uuid:event_uuid>/", views.activity_event, name="activity-event"),
    path("project/<int:project_id>/flags/", views.flags, name="flags"),
    path("project/<int:project_id>/flags/<int:flag_id>/toggle/", views.flag_toggle, name="flag-toggle"),
    path("project/<int:project_id>/sql/", sql_views.sql_page, name="sql"),
    path("project/<int:project_id>/sql/run/", sql_views.sql_run_view, name="sql-run"),
    path("project/<int:project_id>/sql/export/", sql_views.sql_export, name="sql-export"),
    path("project/<int:project_id>/sql/export/<int:export_id>/", sql_views.export_status, name="sql-export-status"),
    path("project/<int:project_id>/sql/export/<int:export_id>/file/", sql_views.export_file, name="sql-export-content"),
    path("project/<int:project_id>/flags/<int:flag_id>/edit/", flag_views.flag_edit, name="flag-edit"),
    path("project/<int:project_id>/people/", people_views.people_list, name="people"),
    path("project/<int:project_id>/people/<str:person_id>/", people_views.person_detail, name="person"),
    path("project/<int:project_id>/cohorts/", people_views.cohort_list, name="cohorts"),
    path("project/<int:project_id>/cohorts/<int:cohort_id>/", people_views.cohort_detail, name="cohort"),
    path("project/<int:project_id>/insights/", insights_views.insights, name="insights"),
    path("project/<int:project_id>/insights/<str:insight_key>/", insights_views.insight_detail, name="insight"),
    path("project/<int:project_id>/dashboards/", insights_views.dashboards, name="dashboards"),
    path("project/<int:project_id>/dashboards/<int:dashboard_id>/", insights_views.dashboard_detail, name="dashboard"),
    path("project/<int:project_id>/settings/", views.settings_page, name="settings"),
    path("project/<int:project_id>/settings/project/", views.project_settings_save, name="project-settings"),
    path("project/<int:project_id>/settings/keys/", views.key_create, name="key-create"),
    path("project/<int:project_id>/settings/keys/<str:key_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("project/<int:project_id>/recordings/", recordings_views.recordings, name="recordings"),
    path("project/<int:project_id>/recordings/<str:session_id>/", recordings_views.recording_player, name="recording"),
    path(
        "project/<int:project_id>/recordings/<str:session_id>/snapshots/",
        recordings_views.recording_snapshots,
        name="recording-snapshots",
    ),
]
urlpatterns: list = [path("console/", include((console_urls, "console"), namespace="console"))]
