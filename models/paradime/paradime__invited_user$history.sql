{#- an invite no longer listed (accepted, revoked, purged) has no current version -#}
{{ config(alias='invited_user$history') }}
{{ history(ref('paradime__invited_user'), source='paradime', key=['workspace', 'email'], where='is_pending', schema=var('paradime_schema', 'paradime')) }}
