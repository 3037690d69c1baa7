{#- One row per email of the directory (Okta): the person's directory user, for `person`. When several
    Okta users share an email (differing in case or spaces), an active one wins, then one still in Okta,
    then the latest status change. `left`: SUSPENDED, DEPROVISIONED or deleted from Okta; `left_at`: when
    (the status change; for a deleted user, its deactivation, the last change Okta reported). -#}
with users as (
    select
        lower(trim(email)) as email,
        id,
        case when is_deleted then 'DELETED' else status end as status,
        status_changed,
        last_login,
        is_deleted,
        case when not is_deleted
             and status in ('ACTIVE', 'PROVISIONED', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT') then 1 else 0 end as is_active
    from {{ ref('okta__user') }}
    where nullif(trim(email), '') is not null
),

ranked as (
    select
        *,
        max(last_login) over (partition by email) as any_last_login,
        row_number() over (
            partition by email
            order by is_active desc, case when is_deleted then 1 else 0 end, status_changed desc nulls last, id
        ) as rn
    from users
)

select
    email,
    status as directory_status,
    status_changed as directory_status_changed,
    any_last_login as directory_last_login,
    is_active = 1 as directory_active,
    status in ('SUSPENDED', 'DEPROVISIONED', 'DELETED') as directory_left,
    case when status in ('SUSPENDED', 'DEPROVISIONED', 'DELETED') then status_changed end as left_at
from ranked
where rn = 1
