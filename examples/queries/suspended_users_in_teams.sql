-- Suspended users who are still members of a team (access to clean up).
select u.handle, u.email, t.name as team, tm.role
from "user" u
join team_member tm on tm.user_id = u.id
join team t on t.id = tm.team_id
where u.is_suspended
order by u.handle, t.name;
