"""One person is one lower-cased, trimmed email on both targets, whatever the database's collation
(issue 25: on PostgreSQL with lc_ctype=C, `lower()` left `É` upper-case and a person split in two).
The expression the `access` models use (macro `normalize_email`) runs on DuckDB and on the test server
(initdb --locale=C) over non-ASCII addresses; both give Python's lower-case of each."""
from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import psycopg2

MACRO = Path(__file__).resolve().parents[2] / "macros" / "normalize_email.sql"
ADDRESSES = [" Élodie.Dupré@Example.com", "ÉLODIE.DUPRÉ@EXAMPLE.COM ", "Łukasz.Żółć@Przykład.PL", "ΔΗΜΗΤΡΑ@Ελληνικά.gr",
             "ЕКАТЕРИНА@Пример.рф", "Ǆemal@x.ba", "Søren.ØSTERGÅRD@X.dk", "plain@ascii.io"]


def expression(column: str) -> str:
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(MACRO.read_text(encoding="utf-8")).module
    return str(module.normalize_email(column)).strip()


def test_normalize_email_is_the_same_on_duckdb_and_a_c_locale_postgres(pg):
    sql = f"select {expression('e')} from (values " + ", ".join(f"({i}, '{a}')" for i, a in enumerate(ADDRESSES)) \
        + ") as t (i, e) order by i"
    expected = [a.strip().lower() for a in ADDRESSES]
    assert [r[0] for r in duckdb.connect().execute(sql).fetchall()] == expected
    con = psycopg2.connect(**pg.libpq_kwargs())
    try:
        cur = con.cursor()
        cur.execute("show lc_ctype")
        assert cur.fetchone()[0] == "C"  # the collation that broke lower()
        cur.execute(sql)
        assert [r[0] for r in cur.fetchall()] == expected
        cur.execute("select lower('Élodie')")  # what the models used before
        assert cur.fetchone()[0] == "Élodie"
    finally:
        con.close()
    assert expected[0] == expected[1] == "élodie.dupré@example.com"  # one person
