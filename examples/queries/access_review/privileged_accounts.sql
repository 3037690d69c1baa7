-- Privileged accounts: Benchling team admins (with the teams they administer), Paradime admin account types, Bencher leaders.
-- Removed accounts and expired invites are left out; suspended ones stay listed (they can be reinstated).
-- requires: access, team_member, team
select a.system, a.scope, a.email, a.name, a.status, a.role, adm.teams as admin_of
from access a
left join (
    select tm.user_id, string_agg(t.name, ', ' order by t.name) as teams
    from team_member tm
    join team t on t.id = tm.team_id
    where tm.role = 'ADMIN'
    group by tm.user_id
) adm on a.system = 'benchling' and adm.user_id = a.account_id
where a.status in ('active', 'suspended', 'invited')
  and ((a.system = 'benchling' and a.role = 'ADMIN')
       or (a.system = 'paradime' and a.role like '%ADMIN')
       or (a.system = 'bencher' and a.role = 'leader'))
order by a.system, a.scope, a.email;
