{#- a removed member has no current version -#}
{{ config(alias='member$history') }}
{{ history(ref('bencher__member'), source='bencher', key=['organization_uuid', 'uuid'], where='is_member', schema=var('bencher_schema', 'bencher')) }}
