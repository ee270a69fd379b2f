"""Reference: the feature stage's per-table aggregations in DuckDB, on the same Parquet files.

Usage: python3 benches/duckdb_features.py DATA_DIR AS_OF [THREADS] [OUT.parquet]
Computes, per scored subject, the windowed counts, mode/severity/channel/role splits, sums,
"days since" and list/annual-report features of `riskwarn features` (one GROUP BY per table,
joined to the scored subjects), and prints the wall time. Not part of the test suite.
"""
import sys, time
import duckdb

data, as_of = sys.argv[1], sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
out = sys.argv[4] if len(sys.argv) > 4 else None
con = duckdb.connect()
con.execute(f"SET threads={threads}")
T = f"DATE '{as_of}'"
W = [30, 90, 365, 1095]

def known(date, recorded=True):
    k = f"{date} < {T}"
    return f"{k} AND (recorded_on IS NULL OR recorded_on < {T})" if recorded else k

def within(date, w, recorded=True):
    return f"{known(date, recorded)} AND {date} >= {T} - INTERVAL {w} DAY"

def cnt(cond):
    return f"count(*) FILTER (WHERE {cond})::DOUBLE"

def windowed(prefix, date, extra="TRUE"):
    return [f"{cnt(within(date, w) + ' AND ' + extra)} AS {prefix}_{w}d" for w in W]

def trend(prefix, date, extra="TRUE"):
    prev = f"{known(date)} AND {date} >= {T} - INTERVAL 730 DAY AND {date} < {T} - INTERVAL 365 DAY AND {extra}"
    return f"{cnt(within(date, 365) + ' AND ' + extra)} - {cnt(prev)} AS {prefix}_trend"

def since(name, date, cond):
    return f"({T} - max({date}) FILTER (WHERE {cond}))::DOUBLE AS {name}"

tables = {
    "inspections": ("inspected_on", windowed("insp_n", "inspected_on")
        + windowed("insp_violation", "inspected_on", "outcome='violation'")
        + windowed("insp_issues", "inspected_on", "outcome='issues'")
        + [f"{cnt(within('inspected_on', 1095) + f' AND mode=' + repr(m))} AS insp_{m}_1095d" for m in ["random", "targeted", "complaint", "joint"]]
        + [f"{cnt(within('inspected_on', 1095) + ' AND mode=' + repr('random') + ' AND outcome=' + repr('violation'))} AS insp_random_violation_1095d",
           f"sum(coalesce(issues_found,0)) FILTER (WHERE {within('inspected_on', 1095)})::DOUBLE AS insp_issues_found_1095d",
           trend("insp_violation", "inspected_on", "outcome='violation'"),
           since("insp_days_since_last", "inspected_on", known("inspected_on")),
           since("insp_days_since_violation", "inspected_on", known("inspected_on") + " AND outcome='violation'")]),
    "penalties": ("decided_on", windowed("pen_n", "decided_on")
        + [f"{cnt(within('decided_on', 1095) + ' AND severity=' + repr(s))} AS pen_{s}_1095d" for s in ["minor", "general", "serious"]]
        + [f"ln(1 + coalesce(sum(fine_cny) FILTER (WHERE {within('decided_on', 1095)}), 0)) AS pen_fine_log_1095d",
           f"{cnt(within('decided_on', 1095) + ' AND license_revoked')} AS pen_license_revoked_1095d",
           trend("pen", "decided_on"), since("pen_days_since_last", "decided_on", known("decided_on"))]),
    "complaints": ("received_on", windowed("cmp_n", "received_on")
        + [f"{cnt(within('received_on', 365) + ' AND channel=' + repr(c))} AS cmp_{c}_365d" for c in ["12315", "12345"]]
        + [f"{cnt(within('received_on', 1095) + ' AND substantiated')} AS cmp_substantiated_1095d",
           f"{cnt(within('received_on', 1095) + ' AND substantiated')} / nullif({cnt(within('received_on', 1095) + ' AND substantiated IS NOT NULL')}, 0) AS cmp_substantiated_share_1095d",
           trend("cmp", "received_on"), since("cmp_days_since_last", "received_on", known("received_on"))]),
    "product_checks": ("sampled_on", windowed("pc_n", "sampled_on") + windowed("pc_failed", "sampled_on", "NOT passed")
        + [f"{cnt(within('sampled_on', 1095) + ' AND NOT passed')} / nullif({cnt(within('sampled_on', 1095))}, 0) AS pc_fail_share_1095d",
           since("pc_days_since_failed", "sampled_on", known("sampled_on") + " AND NOT passed")]),
    "judgments": ("judged_on", windowed("jud_n", "judged_on")
        + [f"{cnt(within('judged_on', 1095) + ' AND role=' + repr(r))} AS jud_{r}_1095d" for r in ["defendant", "executed_party"]]
        + [f"{cnt(within('judged_on', 1095) + ' AND case_type=' + repr(c))} AS jud_{c}_1095d" for c in ["enforcement", "criminal"]]
        + [f"ln(1 + coalesce(sum(coalesce(amount_cny,0)) FILTER (WHERE {within('judged_on', 1095)} AND role <> 'plaintiff'), 0)) AS jud_amount_log_1095d",
           since("jud_days_since_last", "judged_on", known("judged_on"))]),
}
cur = f"{known('listed_on')} AND (removed_on IS NULL OR removed_on >= {T})"
lists = []
for lst, short in [("abnormal_operations", "abnormal"), ("serious_violation", "serious"), ("dishonest_debtor", "debtor")]:
    lists += [f"({cnt(cur + ' AND list=' + repr(lst))} > 0)::DOUBLE AS list_{short}_now",
              f"({T} - min(listed_on) FILTER (WHERE {cur} AND list='{lst}'))::DOUBLE AS list_{short}_days"]
lists += [f"{cnt(known('listed_on') + f' AND removed_on < {T}')} AS list_removed_n", f"{cnt(within('listed_on', 1095))} AS list_n_1095d"]
tables["credit_lists"] = ("listed_on", lists)

y = int(as_of[:4]); last = y - 1 if as_of[5:] > "06-30" else y - 2
scope = f"year BETWEEN {last-2} AND {last}"
filed = f"filed_on IS NOT NULL AND filed_on < {T}"
late = f"(year(filed_on) > year + 1 OR (year(filed_on) = year + 1 AND month(filed_on) > 6))"
ar = [f"{cnt(scope)} AS ar_due_3y", f"{cnt(scope + ' AND NOT (' + filed + ')')} AS ar_missing_3y",
      f"{cnt(scope + ' AND ' + filed + ' AND ' + late)} AS ar_late_3y"]

def src(t):
    import os
    p = os.path.join(data, t + ".parquet")
    return f"read_parquet('{p}')" if os.path.exists(p) else f"read_parquet('{os.path.join(data, t)}/**/*.parquet')"

start = time.time()
con.execute(f"""CREATE TEMP TABLE scored AS SELECT uscc, ({T} - established_on)::DOUBLE AS sub_age_days,
  ln(1 + registered_capital) AS sub_log_capital, subject_type, substr(industry,1,1) AS industry_section
  FROM {src('subjects')} WHERE status IN ('active','suspended') AND established_on < {T}""")
joined = "scored"
for name, (_, exprs) in tables.items():
    con.execute(f"CREATE TEMP TABLE f_{name} AS SELECT uscc, {', '.join(exprs)} FROM {src(name)} GROUP BY uscc")
con.execute(f"CREATE TEMP TABLE f_annual_reports AS SELECT uscc, {', '.join(ar)} FROM {src('annual_reports')} GROUP BY uscc")
froms = " ".join(f"LEFT JOIN f_{n} USING (uscc)" for n in list(tables) + ["annual_reports"])
query = f"SELECT * FROM scored {froms}"
if out:
    # Like `riskwarn features`, write the result (zstd Parquet).
    con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
else:
    n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
elapsed = time.time() - start
print(f"duckdb {duckdb.__version__}: {n} subjects, {elapsed:.2f} s (threads={threads}, {'written to ' + out if out else 'not written'})")
