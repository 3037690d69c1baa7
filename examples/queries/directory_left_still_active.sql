-- Left the company, still active: people the directory (Okta) says left (SUSPENDED, DEPROVISIONED, or deleted
-- from Okta) who still have an active account in another system, with each such account and when they left.
-- requires: person, access, okta."user"
select p.email, p.name, p.directory_status, p.left_at, a.system, a.scope, a.account_id, a.role
from person p
join access a on a.email = p.email and a.system <> 'okta' and a.status = 'active'
where p.directory_status in ('SUSPENDED', 'DEPROVISIONED', 'DELETED')
order by p.left_at, p.email, a.system, a.scope, a.account_id;
