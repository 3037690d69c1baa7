-- Everyone with admin rights anywhere, on an active account, read from each source's own tables (for a
-- warehouse without `access`; with it, access_admins_anywhere.sql answers): Benchling team admins,
-- Paradime admin account types, Bencher organization leaders.
-- requires: "user", team_member, paradime."user", bencher.member
select email, name, system, scope, role
from (
    select distinct lower(trim(u.email)) as email, u.name, 'benchling' as system, cast(null as varchar) as scope,
           'ADMIN' as role
    from "user" u
    join team_member tm on tm.user_id = u.id and tm.role = 'ADMIN'
    where not u.is_suspended
    union all
    select lower(trim(email)), name, 'paradime', workspace, account_type
    from paradime."user"
    where is_active and account_type like '%ADMIN'
    union all
    select lower(trim(email)), name, 'bencher', organization_slug, role
    from bencher.member
    where is_member and role = 'leader'
) privileged
order by email, system, scope;
