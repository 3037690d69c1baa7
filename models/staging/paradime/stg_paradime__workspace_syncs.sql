{#- One row per (configured workspace, successful sync). Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'workspace_syncs'), [
    ('workspace', 'string'),
    ('workspace_uid', 'string'),
    ('synced_at', 'utc_timestamp'),
    ('active_user_count', 'bigint'),
    ('invited_user_count', 'bigint'),
    ('workspaces_listed', 'boolean'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
