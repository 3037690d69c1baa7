-- Active users who are in no team at all.
select u.handle, u.name
from "user" u
where not u.is_suspended
  and not exists (select 1 from team_member tm where tm.user_id = u.id)
order by u.handle;
