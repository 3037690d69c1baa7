-- Accounts outside the directory: active accounts whose email is no active user of the directory (Okta), of
-- people who did not leave by it: contractors, personal addresses, typos, accounts never set up in Okta.
-- requires: person, access, okta."user"
select p.email, a.name, p.directory_status, a.system, a.scope, a.account_id, a.role
from person p
join access a on a.email = p.email and a.system <> 'okta' and a.status = 'active'
where p.outside_directory
order by p.email, a.system, a.scope, a.account_id;
