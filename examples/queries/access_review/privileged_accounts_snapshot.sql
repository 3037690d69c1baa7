-- Privileged accounts, read from each source's own tables (for a warehouse without `access`):
-- Benchling team admins (with the teams they administer), Paradime admin account types, Bencher leaders.
-- requires: "user", team_member, team, paradime."user", paradime.invited_user, bencher.member
select system, scope, email, name, status, role, admin_of
from (
    select 'benchling' as system, cast(null as varchar) as scope, u.email, u.name,
           case when u.is_suspended then 'suspended' else 'active' end as status,
           'ADMIN' as role, string_agg(t.name, ', ' order by t.name) as admin_of
    from "user" u
    join team_member tm on tm.user_id = u.id and tm.role = 'ADMIN'
    join team t on t.id = tm.team_id
    group by u.id, u.email, u.name, u.is_suspended
    union all
    select 'paradime', workspace, email, name, 'active', account_type, null
    from paradime."user"
    where is_active and account_type like '%ADMIN'
    union all
    select 'paradime', workspace, email, null, 'invited', account_type, null
    from paradime.invited_user
    where is_pending and upper(invite_status) <> 'EXPIRED' and account_type like '%ADMIN'
    union all
    select 'bencher', organization_slug, email, name, 'active', role, null
    from bencher.member
    where is_member and role = 'leader'
) privileged
order by system, scope, email;
