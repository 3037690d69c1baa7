{#- One row per Okta group ever listed (key `group_id`). Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'groups'), [
    ('id', 'string', 'group_id'),
    ('name', 'string'),
    ('description', 'string'),
    ('type', 'string'),
    ('created', 'utc_timestamp'),
    ('last_updated', 'utc_timestamp'),
    ('last_membership_updated', 'utc_timestamp'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
