{{ history(ref('user'), source='benchling', key=['id'], null_by_design=['created_at']) }}
