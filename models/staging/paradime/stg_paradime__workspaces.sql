{#- One row per Paradime workspace ever listed by `listWorkspaces` (key `workspace_uid`). Rename and cast only.
    A column (or the whole raw table) that no sync has loaded yet is a typed NULL (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('paradime', 'workspaces'), [
    ('uid', 'string', 'workspace_uid'),
    ('name', 'string'),
    ('listed_by', 'string'),
    ('last_seen_at', 'utc_timestamp', 'last_listed_at'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
