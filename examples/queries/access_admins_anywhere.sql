-- Everyone with admin rights anywhere, on an active account: Benchling team admins (`ADMIN`), Paradime
-- account types that administer something (ADMIN, BILLING_ADMIN, SECURITY_ADMIN, WORKSPACE_ADMIN,
-- WORKSPACE_SETTINGS_ADMIN), Bencher organization leaders (`leader`, the role that manages an organization).
select a.email, a.name, a.system, a.scope, a.role
from access a
where a.status = 'active'
  and (
    (a.system = 'benchling' and a.role = 'ADMIN')
    or (a.system = 'paradime' and a.role like '%ADMIN')
    or (a.system = 'bencher' and a.role = 'leader')
  )
order by a.email, a.system, a.scope;
