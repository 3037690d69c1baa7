-- The offboarding gap: people inactive (suspended or removed) in one system but still active in another.
-- requires: person, access
select p.email, p.name,
       string_agg(case when a.status = 'active' then a.system || ' ' || coalesce(a.scope, '') end, ', '
                  order by a.system, a.scope) as active_in,
       string_agg(case when a.status in ('suspended', 'removed') then a.system || ' ' || coalesce(a.scope, '') || ' (' || a.status || ')' end, ', '
                  order by a.system, a.scope) as inactive_in,
       p.last_seen
from person p
join access a on a.email = p.email
where p.offboarding_gap
group by p.email, p.name, p.last_seen
order by p.email;
