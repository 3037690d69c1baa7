{#- One row per Bencher organization ever listed for the token (key `organization_uuid`). Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('bencher', 'organizations'), [
    ('uuid', 'string', 'organization_uuid'),
    ('name', 'string'),
    ('slug', 'string'),
    ('created', 'utc_timestamp', 'created_at'),
    ('modified', 'utc_timestamp', 'modified_at'),
    ('claimed', 'utc_timestamp', 'claimed_at'),
    ('has_license', 'boolean'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
