-- Active Benchling users whose activity has not been checked yet (no row in user_activity): neither list above can judge them.
-- requires: "user", user_activity
select u.handle, u.name, u.email, u.created_at
from "user" u
where not u.is_suspended
  and not exists (select 1 from user_activity a where a.user_id = u.id)
order by u.handle;
