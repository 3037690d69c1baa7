{#- One row per (app, user) assignment ever listed. Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'app_users'), [
    ('app_id', 'string'),
    ('user_id', 'string'),
    ('status', 'string'),
    ('scope', 'string'),
    ('app_username', 'string'),
    ('status_changed', 'utc_timestamp'),
    ('created', 'utc_timestamp'),
    ('last_updated', 'utc_timestamp'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
