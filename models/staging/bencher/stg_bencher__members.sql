{#- One row per (organization, member user uuid) ever listed. Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('bencher', 'members'), [
    ('organization_uuid', 'string'),
    ('organization_slug', 'string'),
    ('uuid', 'string', 'user_uuid'),
    ('name', 'string'),
    ('slug', 'string'),
    ('email', 'string'),
    ('role', 'string'),
    ('created', 'utc_timestamp', 'created_at'),
    ('modified', 'utc_timestamp', 'modified_at'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
