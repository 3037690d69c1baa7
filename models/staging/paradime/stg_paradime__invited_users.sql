{#- One row per (configured workspace, invited email) ever returned in `listUsers.invitedUsers`. Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'invited_users'), [
    ('workspace', 'varchar'),
    ('workspace_uid', 'varchar'),
    ('email', 'varchar'),
    ('account_type', 'varchar'),
    ('invite_status', 'varchar'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamp with time zone'),
]) }}
