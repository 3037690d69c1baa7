-- The offboarding gap: people inactive (suspended or removed) in one system but still active in another,
-- with every account they have.
select p.email, p.name, a.system, a.scope, a.status, a.role
from person p
join access a on a.email = p.email
where p.offboarding_gap
order by p.email, a.system, a.scope, a.account_id;
