{{ history(ref('team_member'), source='benchling', key=['team_id', 'user_id']) }}
