-- Changes in the review period, from history ($since <= changed_at < $until): access granted and revoked (team
-- memberships), role changes, suspensions and reinstatements, archivings and unarchivings of projects and folders.
-- changed_at is the start of the first sync that saw the change: the resolution is the sync interval, and a change
-- reverted between two syncs is invisible. What existed when history started is not a change.
-- requires: "team_member$history", "user$history", "project$history", "folder$history", "team$history", "principal$history"
with
archivable as (
    select 'project' as kind, id, name, "archived$", "archive_purpose$", valid_from, valid_to from "project$history"
    union all
    select 'folder', id, name, "archived$", "archive_purpose$", valid_from, valid_to from "folder$history"
),
team_name as (
    select h.id, h.name from "team$history" h
    where not exists (select 1 from "team$history" l where l.id = h.id and l.valid_from > h.valid_from)
),
member_name as (
    select h.id, coalesce(h.handle, h.name, h.id) as name from "principal$history" h
    where not exists (select 1 from "principal$history" l where l.id = h.id and l.valid_from > h.valid_from)
),
membership as (
    -- access granted: a version that continues no earlier version, after the first sync of history
    select h.valid_from as changed_at, 'access granted' as change, h.user_id, h.team_id, h.role as detail
    from "team_member$history" h
    where h.valid_from > (select min(valid_from) from "team_member$history")
      and not exists (select 1 from "team_member$history" p
                      where p.team_id = h.team_id and p.user_id = h.user_id and p.valid_to = h.valid_from)
    union all
    -- access revoked: a version that ended and was not continued
    select h.valid_to, 'access revoked', h.user_id, h.team_id, h.role
    from "team_member$history" h
    where h.valid_to is not null
      and not exists (select 1 from "team_member$history" n
                      where n.team_id = h.team_id and n.user_id = h.user_id and n.valid_from = h.valid_to)
    union all
    select n.valid_from, 'role changed', n.user_id, n.team_id, p.role || ' -> ' || n.role
    from "team_member$history" p
    join "team_member$history" n
      on n.team_id = p.team_id and n.user_id = p.user_id and n.valid_from = p.valid_to
    where p.role is distinct from n.role
),
changes as (
    select m.changed_at, m.change, coalesce(mn.name, m.user_id) as who,
           'team ' || coalesce(tn.name, m.team_id) as what, m.detail
    from membership m
    left join member_name mn on mn.id = m.user_id
    left join team_name tn on tn.id = m.team_id
    union all
    select n.valid_from, case when n.is_suspended then 'suspended' else 'reinstated' end,
           coalesce(n.handle, n.id), 'user ' || coalesce(n.email, n.id), null
    from "user$history" p
    join "user$history" n on n.id = p.id and n.valid_from = p.valid_to
    where coalesce(p.is_suspended, false) <> coalesce(n.is_suspended, false)
    union all
    select n.valid_from, case when n."archived$" then 'archived' else 'unarchived' end,
           null, n.kind || ' ' || coalesce(n.name, n.id), n."archive_purpose$"
    from archivable p
    join archivable n on n.kind = p.kind and n.id = p.id and n.valid_from = p.valid_to
    where coalesce(p."archived$", false) <> coalesce(n."archived$", false)
)
select changed_at, change, who, what, detail
from changes
where changed_at >= $since and changed_at < $until
order by changed_at, change, who, what;
