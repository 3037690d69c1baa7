{#- Benchling's part of `access`: one row per user with an email (apps are not persons). Status: `suspended`
    (API `isSuspended`) or `active`, `removed` when its activity check answered 404 (deleted since listed); role `ADMIN` when admin of at least one team, else `MEMBER`; `scope` is
    the synced tenant's host; `last_seen` from `user_activity` (NULL: never seen, or not checked yet). -#}
select
    {{ normalize_email('u.email') }} as email,
    'benchling' as system,
    t.host as scope,
    u.id as account_id,
    u.name,
    case when ua._not_found then 'removed' when u.is_suspended then 'suspended' else 'active' end as status,
    case when a.user_id is not null then 'ADMIN' else 'MEMBER' end as role,
    ua.last_seen
from {{ ref('user$raw') }} as u
cross join (select max(host) as host from {{ ref('stg_benchling__tenant') }}) as t
left join (
    select distinct user_id from {{ ref('team_member$raw') }} where role = 'ADMIN'
) as a on a.user_id = u.id
left join {{ ref('user_activity$raw') }} as ua on ua.user_id = u.id
where nullif(trim(u.email), '') is not null
