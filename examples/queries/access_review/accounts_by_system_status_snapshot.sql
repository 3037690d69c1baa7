-- Accounts per system and status, read from each source's own tables (for a warehouse without `access`).
-- Benchling users (apps are not accounts of a person); Paradime users and open invites; Bencher members.
-- requires: "user", paradime."user", paradime.invited_user, bencher.member
select system, status, count(*) as accounts
from (
    select 'benchling' as system, case when is_suspended then 'suspended' else 'active' end as status
    from "user"
    union all
    select 'paradime', case when is_active then 'active' else 'removed' end
    from paradime."user"
    union all
    select 'paradime', case when upper(invite_status) = 'EXPIRED' then 'invite_expired' else 'invited' end
    from paradime.invited_user
    where is_pending
    union all
    select 'bencher', case when is_member then 'active' else 'removed' end
    from bencher.member
) accounts
group by system, status
order by system, status;
