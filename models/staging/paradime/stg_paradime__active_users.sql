{#- One row per (configured workspace, active user uid) ever returned in `listUsers.activeUsers`. Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'active_users'), [
    ('workspace', 'varchar'),
    ('workspace_uid', 'varchar'),
    ('uid', 'varchar', 'user_uid'),
    ('email', 'varchar'),
    ('name', 'varchar'),
    ('account_type', 'varchar'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamp with time zone'),
]) }}
