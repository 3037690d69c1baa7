{#- a user no longer returned as active (disabled, removed) has no current version -#}
{{ config(alias='user$history') }}
{{ history(ref('paradime__user'), source='paradime', key=['workspace', 'uid'], where='is_active', schema=var('paradime_schema', 'paradime')) }}
