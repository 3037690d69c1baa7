{#- One row per (configured workspace, invited email) ever returned in `listUsers.invitedUsers`. Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'invited_users'), [
    ('workspace', 'string'),
    ('workspace_uid', 'string'),
    ('email', 'string'),
    ('account_type', 'string'),
    ('invite_status', 'string'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
