{{ config(alias='app_user$history') }}
{{ history(ref('okta__app_user'), source='okta', key=['app_id', 'user_id'], where='is_assigned', schema=var('okta_schema', 'okta')) }}
