"""The Benchling simulator: Tasks: the long-running operations of bulk endpoints (`GET /tasks/{task_id}`)."""
from __future__ import annotations

import uuid

from ...simkit.wire import Request, Response
from .api import (not_found, route)


class Tasks:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    def _task(self, task: dict) -> Response:
        tid = str(uuid.uuid4())  # the spec's example task id is a UUID
        self._tasks[tid] = {**task, "_polls_left": self.task_polls}
        return Response(202, {"taskId": tid})


    @route("GET", "/tasks/{task_id}")
    def get_task(self, req: Request, task_id: str) -> Response:
        task = self._tasks.get(task_id)
        if task is None:
            raise not_found("Task", task_id)
        if task["_polls_left"] > 0:
            task["_polls_left"] -= 1
            return Response(200, {"status": "RUNNING"})
        return Response(200, {k: v for k, v in task.items() if not k.startswith("_")})
