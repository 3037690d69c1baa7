{{ config(alias='organization$history') }}
{{ history(ref('bencher__organization'), source='bencher', key=['uuid'], where='is_listed', schema=var('bencher_schema', 'bencher')) }}
