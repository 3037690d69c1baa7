{#- Bencher's part of `access`: one row per (organization, member) with an email; `scope` is the
    organization's slug. `active` while the organization's latest sync lists the member, `removed` after
    (or when the organization itself is no longer listed). Role: the organization role, verbatim. -#}
select
    {{ normalize_email('m.email') }} as email,
    'bencher' as system,
    coalesce(o.slug, m.organization_slug) as scope,
    m.uuid as account_id,
    m.name,
    case when m.is_member and o.is_listed is not false then 'active' else 'removed' end as status,
    m.role,
    {{ typed_null('timestamp') }} as last_seen
from {{ ref('bencher__member') }} as m
left join {{ ref('bencher__organization') }} as o on o.uuid = m.organization_uuid
where nullif(trim(m.email), '') is not null
