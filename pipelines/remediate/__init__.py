"""Remediation: act on a review or an offboarding through the systems' own write endpoints.

    whsync remediate plan  --offboard EMAIL | --from FILE.csv | --review NAME   -> plan.json (+ a table)
    whsync remediate apply plan.json [--apply --operator EMAIL]                -> live re-check, guards,
                                                                                 write-ahead audit, writes

`model.py` (actions, the plan file and its hash), `planner.py` (actions from the warehouse), `audit.py`
(the append-only `remediation_action` table), `systems/` (one executor per API: live check and writes),
`apply.py` (orchestration and guards); the commands are `pipelines/cli/remediate.py`. The verification of applied actions
by later syncs is the dbt view `remediation_verification` (models/warehouse).
"""
