{{ config(alias='workspace$history') }}
{{ history(ref('paradime__workspace'), source='paradime', key=['uid'], where='is_listed', schema=var('paradime_schema', 'paradime')) }}
