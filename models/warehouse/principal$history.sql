{{ history(ref('principal'), source='benchling', key=['id']) }}
