-- Sources and scopes: every system and scope (Benchling tenant, Paradime workspace, Bencher organization) with its accounts.
-- requires: access
select system, scope, count(*) as accounts,
       sum(case when status = 'active' then 1 else 0 end) as active
from access
group by system, scope
order by system, scope;
