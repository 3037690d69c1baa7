{#- One row per (group, user) membership ever listed. Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'group_members'), [
    ('group_id', 'string'),
    ('user_id', 'string'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
