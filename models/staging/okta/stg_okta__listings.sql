{#- One row per complete listing of the Okta org (key `synced_at`). Rename and cast only. -#}
{{ fill_staging_columns(source('okta', 'listings'), [
    ('synced_at', 'utc_timestamp'),
    ('org_url', 'string'),
    ('user_count', 'bigint'),
    ('_whsync_synced_at', 'timestamptz'),
]) }}
