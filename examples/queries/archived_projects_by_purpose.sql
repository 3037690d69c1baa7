-- Archived projects by archive purpose: the views hide archived rows, so read project$raw.
select "archive_purpose$" as archive_purpose, count(*) as projects
from "project$raw"
where "archived$"
group by "archive_purpose$"
order by projects desc, archive_purpose;
