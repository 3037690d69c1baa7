-- Accounts per system and status (one status vocabulary: active, suspended, invited, invite_expired, invite_withdrawn, removed).
-- requires: access
select system, status, count(*) as accounts
from access
group by system, status
order by system, status;
