-- Projects and folders archived between two dates (UTC; from inclusive, to exclusive), with the
-- archive reason. `archived_at` is the start of the first sync that saw the object archived, so it was
-- archived between the previous sync and then; objects already archived when history started are
-- listed with `already_archived_when_history_started` = TRUE (their real archive date is unknown).
-- Archiving a project archives its folders: they are listed too.
with params as (
    select cast(now() at time zone 'UTC' as timestamp) - interval '90 days' as date_from,
           cast(now() at time zone 'UTC' as timestamp) + interval '1 day' as date_to
),
history_start as (
    select min(valid_from) as started_at from "user$history"
),
archived as (
    select 'project' as kind, v.id, v.name, v.id as project_id, v."archive_purpose$" as purpose, v.valid_from as archived_at
    from "project$history" v
    where v."archived$" and not exists (select 1 from "project$history" p
                                        where p.id = v.id and p."archived$" and p.valid_to = v.valid_from)
    union all
    select 'folder', v.id, v.name, v.source_id, v."archive_purpose$", v.valid_from
    from "folder$history" v
    where v."archived$" and not exists (select 1 from "folder$history" p
                                        where p.id = v.id and p."archived$" and p.valid_to = v.valid_from)
)
select a.archived_at, a.kind, a.name, a.id, pr.name as project, a.purpose,
       a.archived_at = (select started_at from history_start) as already_archived_when_history_started
from archived a
cross join params
left join "project$raw" pr on pr.id = a.project_id
where a.archived_at >= params.date_from and a.archived_at < params.date_to
order by a.archived_at, a.kind, project, a.name, a.id;
