{{ config(materialized='view') }}
{#- Each action `whsync remediate apply` applied, checked against the syncs that started after it: `verified`
    once a sync of its system shows the state it left, `not_verified` while none does, `reverted` when a later
    sync shows it undone (history is at the resolution of the sync interval). States come from the history
    relations at each sync's start (`valid_from <= t < valid_to`). -#}
-- depends_on: {{ ref('user$history') }}
-- depends_on: {{ ref('team_member$history') }}
-- depends_on: {{ ref('paradime__user$history') }}
-- depends_on: {{ ref('bencher__member$history') }}
{%- set audit = load_relation(source('whsync', 'remediation_action')) if execute else none %}
{%- set runs = load_relation(source('whsync', 'sync_run')) if execute else none %}
{%- set parts = [] %}
{%- if audit is not none and runs is not none %}
  {%- if relation_exists(ref('user$history')) %}{% do parts.append('benchling_user') %}{% endif %}
  {%- if relation_exists(ref('team_member$history')) %}{% do parts.append('benchling_membership') %}{% endif %}
  {%- if relation_exists(ref('paradime__user$history')) %}{% do parts.append('paradime') %}{% endif %}
  {%- if relation_exists(ref('bencher__member$history')) %}{% do parts.append('bencher') %}{% endif %}
{%- endif %}
{%- set valid = "h.valid_from <= l.run_at and (h.valid_to is null or h.valid_to > l.run_at)" %}

{%- if parts %}
with applied as (
    select apply_id, plan_sha256, action_key, system, scope, account_id, email, action, target_role, operator,
           decision_id, recorded_at as applied_at
    from {{ audit }}
    where phase = 'outcome' and outcome = 'applied'
),

later as (
    -- each sync of the action's system that started after the action was applied
    select a.*, r.started_at as run_at
    from applied as a
    join {{ runs }} as r
      on r.started_at > a.applied_at and position({{ dbt.concat(["chr(34)", "a.system", "chr(34)", "': '"]) }} in r.sources) > 0
),

checks as (
    {%- set branches = [] %}
    {%- if 'benchling_user' in parts %}{% do branches.append("
    select l.apply_id, l.action_key, l.run_at, exists (
        select 1 from " ~ ref('user$history') ~ " as h
        where h.id = l.account_id and " ~ valid ~ " and h.is_suspended = (l.action = 'suspend')
    ) as shows_result
    from later as l where l.system = 'benchling' and l.action in ('suspend', 'unsuspend')") %}{% endif %}
    {#- the other actions remove an account from a scope (a team, a workspace, an organization) or set its role
        there: (part, its history, scope column, account column, role column, its actions, the removing one) -#}
    {%- set memberships = [
        ('benchling_membership', 'team_member$history', 'team_id', 'user_id', 'role',
         "l.system = 'benchling' and l.action in ('remove_membership', 'set_team_role')", 'remove_membership'),
        ('paradime', 'paradime__user$history', 'workspace', 'uid', 'account_type', "l.system = 'paradime'", 'disable'),
        ('bencher', 'bencher__member$history', 'organization_slug', 'uuid', 'role', "l.system = 'bencher'", 'remove_member'),
    ] %}
    {%- for part, history, scope_col, account_col, role_col, actions, removal in memberships if part in parts %}
    {%- set member = "select 1 from " ~ ref(history) ~ " as h where h." ~ scope_col ~ " = l.scope and h." ~ account_col
                     ~ " = l.account_id and " ~ valid %}
    {%- do branches.append("
    select l.apply_id, l.action_key, l.run_at, case when l.action = '" ~ removal ~ "' then not exists (" ~ member ~ "
    ) else exists (" ~ member ~ " and h." ~ role_col ~ " = l.target_role
    ) end as shows_result
    from later as l where " ~ actions) %}
    {%- endfor %}
    {{ branches | join("\n    union all") }}
),

first_shown as (
    select apply_id, action_key, min(case when shows_result then run_at end) as verified_at,
           max(run_at) as last_sync_at
    from checks
    group by apply_id, action_key
),

undone as (
    select f.apply_id, f.action_key, min(c.run_at) as reverted_at
    from first_shown as f
    join checks as c on c.apply_id = f.apply_id and c.action_key = f.action_key
    where f.verified_at is not null and c.run_at > f.verified_at and not c.shows_result
    group by f.apply_id, f.action_key
)

select
    {{ dbt.cast("a.apply_id", sql_type('string')) }} as apply_id,
    {{ dbt.cast("a.plan_sha256", sql_type('string')) }} as plan_sha256,
    {{ dbt.cast("a.action_key", sql_type('string')) }} as action_key,
    {{ dbt.cast("a.system", sql_type('string')) }} as system,
    {{ dbt.cast("a.scope", sql_type('string')) }} as scope,
    {{ dbt.cast("a.account_id", sql_type('string')) }} as account_id,
    {{ dbt.cast("a.email", sql_type('string')) }} as email,
    {{ dbt.cast("a.action", sql_type('string')) }} as action,
    {{ dbt.cast("a.operator", sql_type('string')) }} as operator,
    {{ dbt.cast("a.decision_id", sql_type('string')) }} as decision_id,
    {{ dbt.cast("a.applied_at", sql_type('timestamp')) }} as applied_at,
    {{ dbt.cast("case when u.reverted_at is not null then 'reverted' when f.verified_at is not null then 'verified' else 'not_verified' end", sql_type('string')) }} as verification,
    {{ dbt.cast("f.verified_at", sql_type('timestamp')) }} as verified_at,
    {{ dbt.cast("u.reverted_at", sql_type('timestamp')) }} as reverted_at,
    {{ dbt.cast("f.last_sync_at", sql_type('timestamp')) }} as last_sync_at
from applied as a
left join first_shown as f on f.apply_id = a.apply_id and f.action_key = a.action_key
left join undone as u on u.apply_id = a.apply_id and u.action_key = a.action_key
{%- else %}
select
    {{ typed_null('string') }} as apply_id, {{ typed_null('string') }} as plan_sha256,
    {{ typed_null('string') }} as action_key, {{ typed_null('string') }} as system, {{ typed_null('string') }} as scope,
    {{ typed_null('string') }} as account_id, {{ typed_null('string') }} as email, {{ typed_null('string') }} as action,
    {{ typed_null('string') }} as operator, {{ typed_null('string') }} as decision_id,
    {{ typed_null('timestamp') }} as applied_at,
    {{ typed_null('string') }} as verification, {{ typed_null('timestamp') }} as verified_at,
    {{ typed_null('timestamp') }} as reverted_at, {{ typed_null('timestamp') }} as last_sync_at
where 1 = 0
{%- endif %}
