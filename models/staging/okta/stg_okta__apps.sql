{#- One row per Okta app ever listed (key `app_id`). Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'apps'), [
    ('id', 'string', 'app_id'),
    ('name', 'string'),
    ('label', 'string'),
    ('status', 'string'),
    ('sign_on_mode', 'string'),
    ('created', 'utc_timestamp'),
    ('last_updated', 'utc_timestamp'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
