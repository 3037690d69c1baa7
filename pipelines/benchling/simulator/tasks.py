"""The Benchling simulator: Tasks: the long-running operations of bulk endpoints (`GET /tasks/{task_id}`)."""
from __future__ import annotations

import secrets

from ...simkit.wire import Request, Response
from .api import (not_found, route)


class Tasks:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    def _task(self, task: dict) -> Response:
        tid = "task_" + secrets.token_hex(8)
        self._tasks[tid] = task
        return Response(202, {"taskId": tid})


    @route("GET", "/tasks/{task_id}")
    def get_task(self, req: Request, task_id: str) -> Response:
        task = self._tasks.get(task_id)
        if task is None:
            raise not_found("Task", task_id)
        return Response(200, task)
