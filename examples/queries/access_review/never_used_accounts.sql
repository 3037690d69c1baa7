-- Active Benchling users never seen: their activity was checked and they have never logged in.
-- requires: "user", user_activity
select u.handle, u.name, u.email, u.created_at, a.checked_at
from "user" u
join user_activity a on a.user_id = u.id
where not u.is_suspended
  and a.last_seen is null
order by u.created_at, u.handle;
