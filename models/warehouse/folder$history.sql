{#- from `folder$raw`: an archived folder is a version too -#}
{{ history(ref('folder$raw'), source='benchling', key=['id'], null_by_design=['created_at', 'modified_at']) }}
