{#- Okta's part of `access`: one row per directory user with an email, in every status; `scope` is the org's
    host. Status (the mapping the README documents): ACTIVE, PROVISIONED, RECOVERY, PASSWORD_EXPIRED and
    LOCKED_OUT are `active` (the person is employed; a locked-out or expired password is a sign-in
    problem, not a departure); SUSPENDED is `suspended`; STAGED (created, never activated) is `invited`;
    DEPROVISIONED (deactivated: left) and a user deleted from Okta are `removed`. Role: NULL (a directory
    account grants no role; its raw status is `okta.user.status`). `last_seen`: Okta `lastLogin`. -#}
select
    lower(trim(u.email)) as email,
    'okta' as system,
    l.host as scope,
    u.id as account_id,
    nullif(trim(concat(coalesce(u.first_name, ''), ' ', coalesce(u.last_name, ''))), '') as name,
    case
        when u.is_deleted then 'removed'
        when u.status in ('ACTIVE', 'PROVISIONED', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT') then 'active'
        when u.status = 'SUSPENDED' then 'suspended'
        when u.status = 'STAGED' then 'invited'
        else 'removed'
    end as status,
    {{ typed_null('string') }} as role,
    u.last_login as last_seen
from {{ ref('okta__user') }} as u
cross join (
    select max(split_part(split_part(org_url, '://', 2), '/', 1)) as host
    from {{ ref('stg_okta__listings') }}
    where synced_at = (select max(synced_at) from {{ ref('stg_okta__listings') }})
) as l
where nullif(trim(u.email), '') is not null
