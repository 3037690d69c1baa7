-- Who is in which team, and with what role (apps can be members too: they are in principal, not "user").
select t.name as team, u.handle, u.name as member, tm.role
from team_member tm
join team t on t.id = tm.team_id
join "user" u on u.id = tm.user_id
order by t.name, u.handle, tm.role;
