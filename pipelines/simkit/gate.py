"""What an API request passes before the simulated API answers it: the rate limiter, then fault injection.

    admission = admit(req, limiter, faults)      # limiter: a FixedWindowLimiter, or None (no limit)
    if admission.answer is None:                 # neither refused nor replaced by a fault
        resp = faults.finish(req, admission.fault, <the API's answer>)

A request over the limit gets the API's 429 (`faults.too_many`) and draws no fault; one let through draws its
fault (`FaultInjector.roll`: scripted first, then the rates); a 429/5xx/reset replaces the answer, `slow`
sleeps, truncate/nonjson rework a 200 in `finish`. `headers` are the limiter's ``x-rate-limit-*`` values (an
injected 429's own win): a simulator whose API sends them adds them to every answer (Benchling)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .faults import FaultInjector, Kind
from .ratelimit import FixedWindowLimiter
from .wire import Request, Response


@dataclass
class Admission:
    answer: Optional[Response] = None  # the limiter's 429 or an injected fault: the API does not answer
    fault: Optional[Kind] = None       # this request's fault kind (for `FaultInjector.finish`)
    headers: dict[str, str] = field(default_factory=dict)
    limited: bool = False              # refused by the rate limiter


def admit(req: Request, limiter: Optional[FixedWindowLimiter], faults: FaultInjector) -> Admission:
    headers: dict[str, str] = {}
    if limiter is not None:
        allowed, headers = limiter.hit()
        if not allowed:
            return Admission(faults.too_many(headers), None, headers, True)
    fault = faults.roll(req)
    answer = faults.respond(fault, headers)
    if answer is not None:
        headers = {**headers, **answer.headers}
    return Admission(answer, fault, headers, False)
