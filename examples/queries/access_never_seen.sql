-- Active Benchling users who have never been seen (checked, and `lastSeen` is null): accounts nobody uses.
-- A user not checked yet has no `user_activity` row and is not listed.
select u.handle, u.name, u.email, ua.checked_at
from "user" u
join user_activity ua on ua.user_id = u.id
where not u.is_suspended
  and ua.last_seen is null
order by u.handle;
