-- Users suspended while still members of a team, and since when: `suspended_since` is the start of
-- the first sync that saw the current suspension, `member_since` that of the current membership, and
-- `suspended_member_since` the later of the two. `known_since_history_start` = TRUE when the state
-- already held when history started (it may be older).
with history_start as (
    select min(valid_from) as started_at from "user$history"
),
suspended_since as (
    -- the latest suspended version that no suspended version of the same user ends into
    select v.id, max(v.valid_from) as since
    from "user$history" v
    where v.is_suspended
      and not exists (select 1 from "user$history" p
                      where p.id = v.id and p.is_suspended and p.valid_to = v.valid_from)
    group by v.id
),
member_since as (
    select v.team_id, v.user_id, max(v.valid_from) as since
    from "team_member$history" v
    where not exists (select 1 from "team_member$history" p
                      where p.team_id = v.team_id and p.user_id = v.user_id and p.valid_to = v.valid_from)
    group by v.team_id, v.user_id
)
select u.handle, u.email, t.name as team, tm.role,
       s.since as suspended_since, m.since as member_since,
       greatest(s.since, m.since) as suspended_member_since,
       greatest(s.since, m.since) = (select started_at from history_start) as known_since_history_start
from "user$history" u
join suspended_since s on s.id = u.id
join "team_member$history" tm on tm.user_id = u.id and tm.valid_to is null
join member_since m on m.team_id = tm.team_id and m.user_id = tm.user_id
join "team$history" t on t.id = tm.team_id and t.valid_to is null
where u.valid_to is null and u.is_suspended
order by u.handle, team;
