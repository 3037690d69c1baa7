-- When Benchling was last synced (the start time of the sync, UTC).
-- requires: "user$raw"
select 'benchling' as system, max(_synced_at) as last_synced
from "user$raw";
