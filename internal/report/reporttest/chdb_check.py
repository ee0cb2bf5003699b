"""Runs chainwatch SQL against a current ClickHouse engine (chdb, in-process).

Input (JSON file, argv[1]):
  {"ddl": [statements], "inserts": [{"table", "columns", "rows": [[literal, ...]]}],
   "queries": [{"name", "sql"}]}
The DDL runs as is (it must work on current ClickHouse unchanged). Each insert keeps the columns the
table has and is skipped when the table does not exist (tables of packages not landed yet).
Output (stdout, JSON): {"version", "ddl_errors": [...], "insert_errors": [...],
  "results": [{"name", "rows", "error"}]}
"""
import json
import sys
import tempfile

import chdb
from chdb import session


def main():
    job = json.load(open(sys.argv[1], encoding="utf-8"))
    out = {"version": "", "ddl_errors": [], "insert_errors": [], "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        s = session.Session(tmp)
        s.query("CREATE DATABASE IF NOT EXISTS cw")
        s.query("USE cw")
        out["version"] = str(s.query("SELECT version()", "CSV")).strip().strip('"')
        for stmt in job["ddl"]:
            try:
                s.query(stmt)
            except Exception as e:  # noqa: BLE001 - report every failure
                out["ddl_errors"].append({"sql": stmt[:200], "error": str(e)[:2000]})
        for ins in job["inserts"]:
            table = ins["table"]
            try:
                have = json.loads(str(s.query(
                    "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '%s'" % table,
                    "JSONCompact")))["data"]
            except Exception as e:  # noqa: BLE001
                out["insert_errors"].append({"table": table, "error": str(e)[:2000]})
                continue
            have = {r[0] for r in have}
            if not have:
                continue
            idx = [i for i, c in enumerate(ins["columns"]) if c in have]
            cols = [ins["columns"][i] for i in idx]
            rows = ins["rows"]
            for start in range(0, len(rows), 500):
                values = ",".join("(" + ",".join(r[i] for i in idx) + ")" for r in rows[start:start + 500])
                try:
                    s.query("INSERT INTO %s (%s) VALUES %s" % (table, ", ".join(cols), values))
                except Exception as e:  # noqa: BLE001
                    out["insert_errors"].append({"table": table, "error": str(e)[:2000]})
                    break
        for q in job["queries"]:
            res = {"name": q["name"], "rows": 0, "error": ""}
            try:
                r = s.query(q["sql"], "JSONCompact")
                text = str(r)
                res["rows"] = len(json.loads(text)["data"]) if text.strip() else 0
            except Exception as e:  # noqa: BLE001
                res["error"] = str(e)[:2000]
            out["results"].append(res)
        s.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
