{#- Paradime's part of `access`, per configured workspace (`scope`). Users: `active`, or `removed` once a
    sync no longer lists them (disabled or removed: the API cannot tell which). Invites have no uid: the
    invited email stands in as `account_id`, and no name. An invite is `invited` while open (SENT, ACTIVE,
    or any status but EXPIRED), `invite_expired` when EXPIRED, `invite_withdrawn` once no longer listed and never
    accepted (the person never had Paradime access: not `removed`, no offboarding gap); an open invite of an email already active in the workspace, or a vanished invite whose email
    became a user there (accepted), is not an account of its own. Role: `accountType`, verbatim. -#}
with users as (
    select workspace, {{ normalize_email('email') }} as email, uid, name, account_type, is_active
    from {{ ref('paradime__user') }}
    where nullif(trim(email), '') is not null
),

invites as (
    select workspace, {{ normalize_email('email') }} as email, account_type, invite_status, is_pending
    from {{ ref('paradime__invited_user') }}
    where nullif(trim(email), '') is not null
)

select
    email,
    'paradime' as system,
    workspace as scope,
    uid as account_id,
    name,
    case when is_active then 'active' else 'removed' end as status,
    account_type as role,
    {{ typed_null('timestamp') }} as last_seen
from users

union all

select
    i.email,
    'paradime' as system,
    i.workspace as scope,
    i.email as account_id,
    {{ typed_null('string') }} as name,
    case
        when not i.is_pending then 'invite_withdrawn'
        when upper(i.invite_status) = 'EXPIRED' then 'invite_expired'
        else 'invited'
    end as status,
    i.account_type as role,
    {{ typed_null('timestamp') }} as last_seen
from invites as i
where not exists (
    select 1 from users as u
    where u.workspace = i.workspace and u.email = i.email and (u.is_active or not i.is_pending)
)
