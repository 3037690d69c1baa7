-- History recorded so far: per history relation, the start of the first sync that recorded it (changes before it
-- cannot be shown) and its number of versions.
-- requires: "team_member$history", "user$history", "project$history", "folder$history"
select 'team_member$history' as relation, min(valid_from) as history_started, count(*) as versions
from "team_member$history"
union all
select 'user$history', min(valid_from), count(*) from "user$history"
union all
select 'project$history', min(valid_from), count(*) from "project$history"
union all
select 'folder$history', min(valid_from), count(*) from "folder$history"
order by relation;
