{#- a deleted user has no current version: its last one gets its valid_to -#}
{{ config(alias='user$history') }}
{{ history(ref('okta__user'), source='okta', key=['id'], where='not is_deleted', schema=var('okta_schema', 'okta')) }}
