-- Active Benchling users whose last activity is older than the inactivity window ($inactive_since = now - N days).
-- requires: "user", user_activity
select u.handle, u.name, u.email, a.last_seen, a.checked_at
from "user" u
join user_activity a on a.user_id = u.id
where not u.is_suspended
  and a.last_seen < $inactive_since
order by a.last_seen, u.handle;
