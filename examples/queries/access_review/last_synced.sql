-- When each source was last synced (the start time of the sync, UTC).
-- requires: "user$raw", paradime.workspace, bencher.organization
select 'benchling' as system, max(_synced_at) as last_synced from "user$raw"
union all
select 'paradime', max(_synced_at) from paradime.workspace
union all
select 'bencher', max(_synced_at) from bencher.organization
order by system;
