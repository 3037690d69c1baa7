-- Members per team, users and apps counted apart.
select t.name as team,
       count(u.id) as users,
       count(*) - count(u.id) as apps,
       sum(case when tm.role = 'ADMIN' then 1 else 0 end) as admins
from team t
join team_member tm on tm.team_id = t.id
left join "user" u on u.id = tm.user_id
group by t.name
order by users desc, t.name;
