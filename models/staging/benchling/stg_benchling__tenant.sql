{#- The synced Benchling tenant: one row, its host (`host[:port]` of the base URL). Rename and cast only;
    no rows for a warehouse last synced by a whsync that did not record it (see `fill_staging_columns`). -#}
{{ fill_staging_columns(source('benchling', 'tenant'), [
    ('host', 'string'),
    ('_synced_at', 'timestamptz'),
]) }}
