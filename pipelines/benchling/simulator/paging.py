"""The Benchling simulator: Paging, sorting and the list filters every Benchling list endpoint shares (nextToken, pageSize, sort,
ids, names, modifiedAt, archiveReason), and object lookup."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Callable, Optional

from ...simkit.wire import Request, Response
from .api import (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SORTS, _csv, _public, bad_request,
                  not_found, parse_modified_at)
from .tenant import now_iso


class Paging:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    def _json_body(self, req: Request) -> dict:
        try:
            body = json.loads(req.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise bad_request(f"Request body is not valid JSON: {e}") from None
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object.")
        return body


    def _page_size(self, req: Request) -> int:
        raw = req.arg("pageSize")
        if raw is None or raw == "":
            return DEFAULT_PAGE_SIZE
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise bad_request(f"Invalid pageSize {raw!r}: must be an integer between 1 and {MAX_PAGE_SIZE}.")
        n = int(raw)
        if n < 1 or n > MAX_PAGE_SIZE:
            raise bad_request(f"Invalid pageSize {raw}: must be between 1 and {MAX_PAGE_SIZE}.")
        return n


    def _sort(self, req: Request, default: str) -> str:
        s = req.arg("sort")
        if s is None or s == "":
            return default
        if s not in SORTS:
            raise bad_request(f"Invalid sort {s!r}: valid values are {', '.join(SORTS)}.")
        return s


    def _sorted(self, kind: str, items: list[dict], sort: str) -> list[dict]:
        key = ("sorted", kind, sort, id(items))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        field_, _, direction = sort.partition(":")
        if field_ == "name":
            out = sorted(items, key=lambda o: (str(o.get("name", "")).casefold(), o["id"]))
            desc = direction == "desc"
        else:
            out = sorted(items, key=lambda o: (self._obj_time(kind, o, field_), o["id"]))
            desc = direction != "asc"  # modifiedAt / createdAt without direction: most recent first
        if desc:
            out.reverse()
        self._cache[key] = out
        return out


    def _paginate(self, req: Request, collection_key: str, kind: str, items: list[dict], sort: Optional[str],
                  filters: list[tuple[str, Callable[[dict], bool]]], filter_key: tuple) -> Response:
        page_size = self._page_size(req)
        fhash = hashlib.sha1(json.dumps([req.route, req.params, sort, filter_key], default=str)
                             .encode()).hexdigest()[:12]
        offset = self._decode_token(req.arg("nextToken"), fhash)
        ckey = ("filtered", fhash)
        rows = self._cache.get(ckey)
        if rows is None:
            rows = self._sorted(kind, items, sort) if sort else items
            for _, pred in filters:
                rows = [o for o in rows if pred(o)]
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[ckey] = rows
        page = rows[offset:offset + page_size]
        end = offset + page_size
        if (page_size >= 2 and page and self.faults.rates.get("duplicate")
                and self.faults.duplicate_page(f"{req.path}|{fhash}|{offset}|{page_size}")):
            # Fault `duplicate`: as if a row had been inserted before the cursor, the page starts one row
            # early, so it repeats the previous page's last row (the first page repeats its own first row).
            # The next page starts right after it: nothing is skipped.
            page = [rows[0]] + rows[0:page_size - 1] if offset == 0 else rows[offset - 1:offset - 1 + page_size]
            end = offset + page_size - 1
            self.faults.count_duplicate()
        next_token = self._encode_token(end, fhash) if end < len(rows) else ""
        resp = Response(200, {collection_key: [_public(o) for o in page], "nextToken": next_token})
        if kind == "apps":
            resp.headers["Result-Count"] = str(len(rows))
        return resp


    @staticmethod
    def _encode_token(offset: int, fhash: str) -> str:
        raw = json.dumps({"o": offset, "h": fhash}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


    @staticmethod
    def _decode_token(token: Optional[str], fhash: str) -> int:
        if token is None or token == "":
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            offset = data["o"]
            ok = isinstance(offset, int) and offset >= 0 and data["h"] == fhash
        except (ValueError, TypeError, KeyError, binascii.Error):
            ok = False
        if not ok:
            raise bad_request(f"Invalid nextToken {token!r}: not a token issued for this query.")
        return offset


    def _ids_filter(self, req: Request, kind: str, filters: list, fkey: list) -> None:
        ids = _csv(req.arg("ids"))
        if ids is None:
            return
        index = self._by_id[kind]
        invalid = [i for i in ids if i not in index]
        if invalid:
            raise bad_request(f"Invalid ids: {', '.join(invalid)}")
        wanted = set(ids)
        filters.append(("ids", lambda o: o["id"] in wanted))
        fkey.append(("ids", sorted(wanted)))


    def _name_filters(self, req: Request, filters: list, fkey: list, include_names=True) -> None:
        name = req.arg("name")
        if name is not None:
            filters.append(("name", lambda o: o.get("name") == name))
            fkey.append(("name", name))
        inc = req.arg("nameIncludes")
        if inc is not None:
            low = inc.casefold()
            filters.append(("nameIncludes", lambda o: low in str(o.get("name", "")).casefold()))
            fkey.append(("nameIncludes", inc))
        if not include_names:
            return
        any_of = _csv(req.arg("names.anyOf"))
        if any_of is not None:
            self._max100("names.anyOf", any_of)
            s = {x.casefold() for x in any_of}
            filters.append(("names.anyOf", lambda o: str(o.get("name", "")).casefold() in s))
            fkey.append(("names.anyOf", sorted(s)))
        any_cs = _csv(req.arg("names.anyOf.caseSensitive"))
        if any_cs is not None:
            self._max100("names.anyOf.caseSensitive", any_cs)
            s2 = set(any_cs)
            filters.append(("names.anyOf.cs", lambda o: o.get("name") in s2))
            fkey.append(("names.anyOf.caseSensitive", sorted(s2)))


    @staticmethod
    def _max100(name: str, values: list) -> None:
        if len(values) > 100:
            raise bad_request(f"{name} accepts at most 100 values, got {len(values)}.")


    def _modified_filter(self, req: Request, kind: str, filters: list, fkey: list) -> None:
        raw = req.arg("modifiedAt")
        if raw is None or raw.strip() == "":
            return
        conds = parse_modified_at(raw)
        ops = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}

        def pred(o: dict) -> bool:
            v = o.get("modifiedAt" if kind == "apps" else "_modifiedAt")
            if not v:
                return False
            dt = self._time(v)
            return all(ops[op](dt, bound) for op, bound in conds)
        filters.append(("modifiedAt", pred))
        fkey.append(("modifiedAt", [(op, b.isoformat()) for op, b in conds]))


    def _group_filter(self, req: Request, param: str, index: dict[str, set[str]], filters: list, fkey: list) -> None:
        groups = _csv(req.arg(param))
        if groups is None:
            return
        need = set(groups)
        filters.append((param, lambda o: need <= index.get(o["id"], set())))
        fkey.append((param, sorted(need)))


    def _archive_filter(self, req: Request, filters: list, fkey: list) -> None:
        reason = req.arg("archiveReason") or "NOT_ARCHIVED"
        if reason == "NOT_ARCHIVED":
            pred = lambda o: o.get("archiveRecord") is None  # noqa: E731
        elif reason == "ANY_ARCHIVED":
            pred = lambda o: o.get("archiveRecord") is not None  # noqa: E731
        elif reason == "ANY_ARCHIVED_OR_NOT_ARCHIVED":
            pred = None
        else:
            pred = lambda o: (o.get("archiveRecord") or {}).get("reason") == reason  # noqa: E731
        if pred is not None:
            filters.append(("archiveReason", pred))
        fkey.append(("archiveReason", reason))


    def _get(self, kind: str, label: str, oid: str) -> dict:
        obj = self._by_id[kind].get(oid)
        if obj is None:
            raise not_found(label, oid)
        return obj


    def _touch(self, obj: dict, now: Optional[str] = None) -> None:
        obj["_modifiedAt"] = now or now_iso()
