"""Independent check of the information ceiling, with scikit-learn instead of riskwarn's code.

Usage: python3 benches/ceiling.py DATA_DIR FEATURES.parquet [HORIZON_DAYS]
FEATURES.parquet: `riskwarn features --data DATA_DIR --as-of D1,...,Dk,T_CAL,T_TEST --out ...`
with the quarterly training dates, the calibration date and the test date that `riskwarn train`
prints (the test date is the last). Labels follow SPEC §1 (DuckDB over the raw files); the
hidden propensity comes from truth.parquet. On random-inspection outcomes at the test date it
prints AUC and lift@10% of: the oracle; a logistic regression and a gradient-boosted classifier
trained on labels; and a gradient-boosted *regression of the truth itself* on the features plus
full-history rates (complaints, judgments, penalties, listings per year observed; violation,
failure and late-filing shares). The last is the best ranking these records support: what the
oracle gains beyond it is not in the data. Needs duckdb, pandas, scikit-learn. Not a test.
"""
import sys
import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

data, features = sys.argv[1], sys.argv[2]
H = int(sys.argv[3]) if len(sys.argv) > 3 else 180
con = duckdb.connect()
con.execute(f"CREATE VIEW f AS SELECT * FROM '{features}'")
con.execute("CREATE VIEW dates AS SELECT DISTINCT as_of AS t FROM f")
start = con.execute(f"SELECT min(inspected_on) FROM '{data}/inspections.parquet'").fetchall()[0][0]
con.execute(f"""CREATE TABLE lab AS
WITH ev AS (SELECT uscc, inspected_on d, outcome = 'violation' pos, mode = 'random' rnd FROM '{data}/inspections.parquet'
            UNION ALL SELECT uscc, decided_on, severity IN ('general', 'serious'), false FROM '{data}/penalties.parquet')
SELECT t AS as_of, uscc, bool_or(pos) label, bool_or(rnd) from_random, bool_or(rnd AND pos) random_positive
FROM ev JOIN dates ON ev.d >= t AND ev.d < t + INTERVAL {H} DAY GROUP BY ALL""")

def history(table, date, aggs, where="TRUE"):
    return f"""(SELECT t AS as_of, uscc, {aggs} FROM '{data}/{table}.parquet' x JOIN dates
               ON x.{date} < t AND (x.recorded_on IS NULL OR x.recorded_on < t) AND {where} GROUP BY ALL)"""

con.execute(f"""CREATE TABLE hist AS
SELECT t AS as_of, s.uscc, greatest(datediff('day', greatest(s.established_on, DATE '{start}'), t), 1) / 365.25 AS years,
       coalesce(c.n, 0) c, coalesce(j.n, 0) j, coalesce(p.n, 0) p, coalesce(a.n, 0) a,
       coalesce(i.n, 0) i_n, coalesce(i.v, 0) i_v, coalesce(pc.n, 0) pc_n, coalesce(pc.f, 0) pc_f,
       coalesce(r.due, 0) r_due, coalesce(r.late, 0) r_late
FROM '{data}/subjects.parquet' s JOIN dates ON s.established_on < t
LEFT JOIN {history('complaints', 'received_on', 'count(*) n')} c ON c.as_of = t AND c.uscc = s.uscc
LEFT JOIN {history('judgments', 'judged_on', 'count(*) n')} j ON j.as_of = t AND j.uscc = s.uscc
LEFT JOIN {history('penalties', 'decided_on', 'count(*) n')} p ON p.as_of = t AND p.uscc = s.uscc
LEFT JOIN {history('credit_lists', 'listed_on', 'count(*) n', "list = 'abnormal_operations'")} a ON a.as_of = t AND a.uscc = s.uscc
LEFT JOIN {history('inspections', 'inspected_on', "count(*) n, count(*) FILTER (WHERE outcome = 'violation') v")} i ON i.as_of = t AND i.uscc = s.uscc
LEFT JOIN {history('product_checks', 'sampled_on', 'count(*) n, count(*) FILTER (WHERE NOT passed) f')} pc ON pc.as_of = t AND pc.uscc = s.uscc
LEFT JOIN (SELECT t AS as_of, uscc, count(*) due,
                  count(*) FILTER (WHERE filed_on IS NULL OR filed_on >= t OR filed_on > make_date(year + 1, 6, 30)) late
           FROM '{data}/annual_reports.parquet' x JOIN dates ON make_date(x.year + 1, 6, 30) < t GROUP BY ALL) r
       ON r.as_of = t AND r.uscc = s.uscc""")
df = con.execute(f"""SELECT f.*, lab.label, lab.from_random, lab.random_positive, hist.* EXCLUDE (as_of, uscc),
                            tr.base_logit, tr.young_until, tr.young_bonus, tr.change_on, tr.change_delta
                     FROM f JOIN lab USING (as_of, uscc) LEFT JOIN hist USING (as_of, uscc)
                     LEFT JOIN '{data}/truth.parquet' tr USING (uscc)""").df()
t = pd.to_datetime(df.as_of)
dates = sorted(t.unique())
test, train = t == dates[-1], t < dates[-2]

def true_logit_at(offset):
    day = t + pd.Timedelta(days=offset)
    z = df.base_logit + np.where(pd.to_datetime(df.young_until) > day, df.young_bonus, 0)
    return z + np.where(pd.to_datetime(df.change_on) <= day, df.change_delta, 0)

oracle = sum(1 / (1 + np.exp(-true_logit_at(d))) for d in (0, H // 4, H // 2, 3 * H // 4)) / 4
rows = (test & df.from_random).values
y = df.random_positive[rows].astype(bool).values
print(f"test date {dates[-1].date()}: {rows.sum()} random-inspection outcomes, {y.sum()} violations")

def report(name, score):
    s = np.asarray(score)[rows]
    top = np.argsort(-s, kind="stable")[: round(0.1 * len(s))]
    print(f"  {name:52s} AUC {roc_auc_score(y, s):.3f}  lift@10% {y[top].mean() / y.mean():.2f}")

categorical = ["subject_type", "industry_section"]
numeric = [c for c in pd.read_parquet(features).columns if c not in ("uscc", "as_of", *categorical)]
years = df.years
rates = pd.DataFrame({
    **{f"{k}_per_year": np.log((df[k] + 0.5) / (years * df[k][train].sum() / years[train].sum() + 0.5)) for k in "cjpa"},
    "violation_share": np.log((df.i_v + 0.3) / (df.i_n + 3)), "failed_share": np.log((df.pc_f + 0.2) / (df.pc_n + 2)),
    "late_share": np.log((df.r_late + 0.3) / (df.r_due + 2)), "log_years": np.log(years),
})
trees_x = pd.concat([df[numeric], df[categorical].apply(lambda c: c.astype("category").cat.codes), rates], axis=1)
parts = {}
for c in numeric:
    v = df[c].astype(float)
    parts[c], parts[c + "_na"] = np.arcsinh(v.fillna(v[train].median())), v.isna().astype(float)
linear_x = pd.concat([pd.DataFrame(parts), pd.get_dummies(df[categorical]).astype(float)], axis=1)
linear_x = linear_x.loc[:, linear_x[train].std() > 0]
linear_x = (linear_x - linear_x[train].mean()) / linear_x[train].std()

report("oracle (hidden propensity)", oracle)
label = df.label[train].astype(int)
report("logistic regression on labels (scikit-learn)", LogisticRegression(max_iter=3000).fit(linear_x[train], label).decision_function(linear_x))
hgb = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
report("gradient boosting on labels (+ history rates)", hgb.fit(trees_x[train], label).decision_function(trees_x))
regression = HistGradientBoostingRegressor(max_iter=400, learning_rate=0.05, max_leaf_nodes=63, random_state=0)
target = np.log(oracle / (1 - oracle))
report("ceiling: truth regressed on features (+ history rates)", regression.fit(trees_x[train], target[train]).predict(trees_x))
