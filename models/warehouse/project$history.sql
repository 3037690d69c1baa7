{#- from `project$raw`: an archived project is a version too -#}
{{ history(ref('project$raw'), source='benchling', key=['id'], null_by_design=['created_at', 'url']) }}
