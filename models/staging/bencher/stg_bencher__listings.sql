{#- One row per successful Bencher sync (key `synced_at`): `scope` `all` (every visible organization listed)
    or `selected` (only BENCHER_ORGANIZATIONS). Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('bencher', 'listings'), [
    ('synced_at', 'utc_timestamp'),
    ('scope', 'string'),
    ('organization_count', 'bigint'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
