-- When each source was last synced: the start time (UTC) of the newest published sync that synced it,
-- from the run log (`sync_run`; its `sources` is a JSON object keyed by source name). Unlike the newest
-- `_synced_at` of a table, it moves with every sync, also one that found nothing changed.
-- requires: sync_run
select s.system, max(r.started_at) as last_synced
from (values ('bencher'), ('benchling'), ('paradime')) as s (system)
inner join sync_run as r on r.sources like '%"' || s.system || '": {%'
group by s.system
order by s.system;
