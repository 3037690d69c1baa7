-- Active accounts not seen for 90 days: dormant access, licences to reclaim. Benchling only (the one system
-- with activity); `checked_at` says how fresh `last_seen` is. Never-seen users: access_never_seen.sql.
select a.email, a.name, a.scope as tenant, a.last_seen, ua.checked_at
from access a
join user_activity ua on ua.user_id = a.account_id
where a.system = 'benchling'
  and a.status = 'active'
  and a.last_seen < cast(current_timestamp at time zone 'UTC' as timestamp) - interval '90 days'
order by a.last_seen, a.email;
