-- Members and admins of every team as of a moment in the past (history: `team_member$history`).
-- Set `as_of` (UTC), e.g. timestamp '2026-03-01 00:00:00'. A version is valid from `valid_from` (the
-- start of the first sync that saw it) up to, not including, `valid_to`; nothing is known before the
-- first sync that recorded history, so an earlier `as_of` returns no rows.
with params as (
    select cast(now() at time zone 'UTC' as timestamp) as as_of
)
select t.name as team, tm.role, p.handle, p.name, p.email, tm.valid_from as in_this_role_since
from params
join "team_member$history" tm
    on tm.valid_from <= params.as_of and (tm.valid_to is null or tm.valid_to > params.as_of)
join "team$history" t
    on t.id = tm.team_id and t.valid_from <= params.as_of and (t.valid_to is null or t.valid_to > params.as_of)
join "principal$history" p
    on p.id = tm.user_id and p.valid_from <= params.as_of and (p.valid_to is null or p.valid_to > params.as_of)
order by team, tm.role, p.handle, p.name;
