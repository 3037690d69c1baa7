-- Open access review campaigns and their progress: accounts frozen, decided and undecided (the current
-- decision of each account; `whsync review status NAME` breaks it down per reviewer and system).
-- requires: review_campaign, review_decision_current
select c.name, c.owner, c.created_at, c.run_id,
       count(d.item_id) as accounts,
       count(d.decision) as decided,
       count(d.item_id) - count(d.decision) as undecided
from review_campaign c
left join review_decision_current d on d.campaign_id = c.campaign_id
where c.closed_at is null
group by c.name, c.owner, c.created_at, c.run_id
order by c.created_at, c.name;
