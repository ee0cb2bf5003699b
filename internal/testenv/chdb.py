"""Runs SQL on chdb (an in-process current ClickHouse engine) for chainwatch's compatibility tests.

stdin: {"database": "chainwatch", "setup": ["CREATE ...", "INSERT ..."], "queries": ["SELECT ..."]}
stdout: {"version": "...", "setup_errors": [[i, "msg"]], "results": [{"rows": N, "tsv": "...", "error": "..."}]}
(tsv: the result in ClickHouse's TabSeparatedRaw format, values unescaped, to compare with another engine's)
"""
import json
import sys
import tempfile

from chdb import session


def main():
    req = json.load(sys.stdin)
    db = req.get("database", "chainwatch")
    out = {"setup_errors": [], "results": []}
    with tempfile.TemporaryDirectory() as d:
        s = session.Session(d)
        out["version"] = str(s.query("SELECT version()", "CSV")).strip().strip('"')
        s.query("CREATE DATABASE IF NOT EXISTS " + db)
        s.query("USE " + db)
        for i, stmt in enumerate(req.get("setup", [])):
            try:
                s.query(stmt)
            except Exception as e:  # report, keep going
                out["setup_errors"].append([i, str(e)[:2000]])
        for q in req.get("queries", []):
            try:
                res = s.query(q, "JSONCompact")
                data = json.loads(str(res) or '{"data": []}')
                tsv = str(s.query(q, "TabSeparatedRaw"))
                out["results"].append({"rows": len(data.get("data", [])), "tsv": tsv, "error": ""})
            except Exception as e:
                out["results"].append({"rows": 0, "tsv": "", "error": str(e)[:2000]})
        s.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
