-- Suspended users who are still members of a team, and since when they are suspended: the first sync that saw the
-- suspension (history starts with the first sync after the upgrade, so an older suspension shows that sync's time).
-- requires: "user", team_member, team, "user$history"
select u.handle, u.email, t.name as team, tm.role,
       (select min(h.valid_from)
        from "user$history" h
        where h.id = u.id and h.is_suspended
          and not exists (select 1 from "user$history" l
                          where l.id = u.id and not l.is_suspended and l.valid_from > h.valid_from)
       ) as suspended_since
from "user" u
join team_member tm on tm.user_id = u.id
join team t on t.id = tm.team_id
where u.is_suspended
order by u.handle, t.name;
