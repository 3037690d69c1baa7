{#- One row per Okta user ever listed (key `user_id`). Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'users'), [
    ('id', 'string', 'user_id'),
    ('login', 'string'),
    ('email', 'string'),
    ('first_name', 'string'),
    ('last_name', 'string'),
    ('status', 'string'),
    ('created', 'utc_timestamp'),
    ('activated', 'utc_timestamp'),
    ('status_changed', 'utc_timestamp'),
    ('last_login', 'utc_timestamp'),
    ('last_updated', 'utc_timestamp'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
