-- Remediation applied (`whsync remediate apply`) and what later syncs saw: verified (a sync after it shows the
-- state it left), not_verified (none does yet), reverted (a later sync shows it undone).
-- requires: remediation_verification
select applied_at, system, action, coalesce(email, account_id) as account, scope, operator,
       verification, verified_at, reverted_at
from remediation_verification
order by applied_at, system, action_key;
