{#- One row per (configured workspace, active user uid) ever returned in `listUsers.activeUsers`. Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'active_users'), [
    ('workspace', 'string'),
    ('workspace_uid', 'string'),
    ('uid', 'string', 'user_uid'),
    ('email', 'string'),
    ('name', 'string'),
    ('account_type', 'string'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
