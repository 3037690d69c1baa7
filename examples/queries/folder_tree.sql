-- Every live folder with its full path from the project's root folder, and its depth.
with recursive tree as (
    select f.id, f.source_id, f.name, cast(f.name as varchar) as path, 1 as depth
    from folder f
    where f.parent_folder_id is null
    union all
    select c.id, c.source_id, c.name, cast(tree.path || ' / ' || c.name as varchar), tree.depth + 1
    from folder c
    join tree on c.parent_folder_id = tree.id
)
select p.name as project, tree.path, tree.depth
from tree
left join project p on p.id = tree.source_id
order by project, tree.path;
