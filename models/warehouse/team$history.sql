{{ history(ref('team'), source='benchling', key=['id'], null_by_design=['description']) }}
