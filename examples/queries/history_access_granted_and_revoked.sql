-- Team access granted, revoked and changed between two dates (UTC; from inclusive, to exclusive).
-- `changed_at` is the start of the first sync that saw the change, so the change happened between the
-- previous sync and `changed_at`. Memberships that already existed when history started are listed once, as
-- `in place when history started`, not as grants.
with params as (
    select cast(now() at time zone 'UTC' as timestamp) - interval '90 days' as date_from,
           cast(now() at time zone 'UTC' as timestamp) + interval '1 day' as date_to
),
history_start as (
    select min(valid_from) as started_at from "user$history"
),
events as (
    -- the first version of a run of versions (no version of the same membership ends where it starts)
    select v.team_id, v.user_id, v.valid_from as changed_at, v.role,
           case when v.valid_from = (select started_at from history_start) then 'in place when history started'
                else 'granted' end as change
    from "team_member$history" v
    where not exists (select 1 from "team_member$history" p
                      where p.team_id = v.team_id and p.user_id = v.user_id and p.valid_to = v.valid_from)
    union all
    -- the last version of a run: revoked when it ended
    select v.team_id, v.user_id, v.valid_to, v.role, 'revoked'
    from "team_member$history" v
    where v.valid_to is not null
      and not exists (select 1 from "team_member$history" n
                      where n.team_id = v.team_id and n.user_id = v.user_id and n.valid_from = v.valid_to)
    union all
    -- a role change: one version follows another with a different role
    select n.team_id, n.user_id, n.valid_from, n.role, 'role ' || p.role || ' -> ' || n.role
    from "team_member$history" p
    join "team_member$history" n
        on n.team_id = p.team_id and n.user_id = p.user_id and n.valid_from = p.valid_to
    where n.role <> p.role
)
select e.changed_at, e.change, coalesce(t.name, e.team_id) as team, e.role,
       coalesce(pr.handle, e.user_id) as member, pr.name, pr.email
from events e
cross join params
left join "team$raw" t on t.id = e.team_id
left join "principal$raw" pr on pr.id = e.user_id
where e.changed_at >= params.date_from and e.changed_at < params.date_to
order by e.changed_at, team, member, e.change;
