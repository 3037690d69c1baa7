{{ config(alias='group_member$history') }}
{{ history(ref('okta__group_member'), source='okta', key=['group_id', 'user_id'], where='is_member', schema=var('okta_schema', 'okta')) }}
