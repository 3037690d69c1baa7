-- Teams without an active admin: no member with role ADMIN who is a user that is not suspended (apps do not count).
-- requires: team, team_member, "user"
select t.name as team, t.id as team_id,
       count(tm.user_id) as members,
       sum(case when tm.role = 'ADMIN' then 1 else 0 end) as admins
from team t
left join team_member tm on tm.team_id = t.id
left join "user" u on u.id = tm.user_id
group by t.id, t.name
having sum(case when tm.role = 'ADMIN' and u.is_suspended = false then 1 else 0 end) = 0
order by t.name, t.id;
