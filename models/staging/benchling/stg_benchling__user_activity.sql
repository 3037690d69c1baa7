{#- One row per Benchling user whose activity a sync has checked (merged by user id across syncs).
    Rename and cast only; no rows until a sync has run the activity pass (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('benchling', 'user_activity'), [
    ('user_id', 'string'),
    ('last_seen', 'utc_timestamp'),
    ('checked_at', 'utc_timestamp'),
    ('suspended_when_checked', 'boolean'),
    ('not_found', 'boolean'),
    ('_synced_at', 'timestamptz'),
]) }}
