//! Readable reasons: feature names as a supervisor reads them (Chinese or English), and the
//! business concept (feature family) each belongs to, for grouping and for the public variant.

/// The family (business concept) of a feature, from its prefix.
pub fn family(feature: &str) -> &'static str {
    match feature.split('_').next().unwrap_or("") {
        "insp" => "inspections",
        "pen" => "penalties",
        "cmp" => "complaints",
        "pc" => "product_checks",
        "jud" => "judgments",
        "list" => "credit_lists",
        "ar" => "annual_reports",
        _ => "subject",
    }
}

fn window_zh(w: &str) -> Option<String> {
    let days = w.strip_suffix('d')?.parse::<u32>().ok()?;
    Some(match days {
        365 => "近1年".into(),
        1095 => "近3年".into(),
        d => format!("近{d}天"),
    })
}

fn stem_zh(family: &str, stem: &str) -> Option<&'static str> {
    Some(match (family, stem) {
        ("insp", "n") => "检查次数",
        ("insp", "violation") => "检查发现违法次数",
        ("insp", "issues") => "检查责令改正次数",
        ("insp", "random") => "双随机抽查次数",
        ("insp", "targeted") => "定向检查次数",
        ("insp", "complaint") => "投诉引发检查次数",
        ("insp", "joint") => "联合检查次数",
        ("insp", "random_violation") => "双随机抽查发现违法次数",
        ("insp", "issues_found") => "检查发现问题数",
        ("pen", "n") => "行政处罚次数",
        ("pen", "minor") => "轻微处罚次数",
        ("pen", "general") => "一般处罚次数",
        ("pen", "serious") => "严重处罚次数",
        ("pen", "fine_log") => "罚没金额(对数)",
        ("pen", "license_revoked") => "吊销许可次数",
        ("cmp", "n") => "投诉举报次数",
        ("cmp", "12315") => "12315投诉次数",
        ("cmp", "12345") => "12345投诉次数",
        ("cmp", "substantiated") => "属实投诉次数",
        ("cmp", "substantiated_share") => "投诉属实比例",
        ("pc", "n") => "产品抽检次数",
        ("pc", "failed") => "抽检不合格次数",
        ("pc", "fail_share") => "抽检不合格比例",
        ("jud", "n") => "司法案件数",
        ("jud", "defendant") => "作为被告案件数",
        ("jud", "executed_party") => "作为被执行人案件数",
        ("jud", "enforcement") => "执行案件数",
        ("jud", "criminal") => "刑事案件数",
        ("jud", "amount_log") => "涉案金额(对数)",
        ("list", "n") => "列入名录次数",
        _ => return None,
    })
}

/// The Chinese label of a feature (the name itself when no label is known).
pub fn label_zh(feature: &str) -> String {
    let fixed = match feature {
        "sub_age_days" => Some("成立天数"),
        "sub_log_capital" => Some("注册资本(对数)"),
        "subject_type" => Some("主体类型"),
        "industry_section" => Some("行业门类"),
        "observation_period" => Some("处于观察期"),
        "insp_violation_trend" => Some("检查违法次数同比增量"),
        "pen_trend" => Some("行政处罚次数同比增量"),
        "cmp_trend" => Some("投诉举报次数同比增量"),
        "insp_days_since_last" => Some("距上次检查天数"),
        "insp_days_since_violation" => Some("距上次违法天数"),
        "insp_days_since_random_pass" => Some("距上次双随机抽查合格天数"),
        "pen_days_since_last" => Some("距上次处罚天数"),
        "cmp_days_since_last" => Some("距上次投诉天数"),
        "pc_days_since_failed" => Some("距上次抽检不合格天数"),
        "jud_days_since_last" => Some("距上次司法案件天数"),
        "list_abnormal_now" => Some("当前列入经营异常名录"),
        "list_abnormal_days" => Some("列入经营异常名录天数"),
        "list_serious_now" => Some("当前列入严重违法失信名单"),
        "list_serious_days" => Some("列入严重违法失信名单天数"),
        "list_debtor_now" => Some("当前为失信被执行人"),
        "list_debtor_days" => Some("列为失信被执行人天数"),
        "list_removed_n" => Some("信用修复移出名录次数"),
        "ar_due_3y" => Some("近三年应报年报数"),
        "ar_missing_3y" => Some("近三年未报年报数"),
        "ar_late_3y" => Some("近三年逾期年报数"),
        "insp_violation_rate_eb" => Some("检查违法率(同业收缩估计)"),
        "insp_random_violation_rate_eb" => Some("双随机抽查违法率(同业收缩估计)"),
        "insp_violation_rate_vs_peer" => Some("检查违法率相对同业"),
        "cmp_365d_vs_peer" => Some("近1年投诉相对同业"),
        "pen_365d_vs_peer" => Some("近1年处罚相对同业"),
        _ => None,
    };
    if let Some(l) = fixed {
        return l.to_string();
    }
    // <family>_<stem>_<window>d
    if let Some((head, w)) = feature.rsplit_once('_')
        && let Some(win) = window_zh(w)
        && let Some((fam, stem)) = head.split_once('_')
        && let Some(s) = stem_zh(fam, stem)
    {
        return format!("{win}{s}");
    }
    feature.to_string()
}

/// A feature value as written in a reason: whole numbers without decimals.
pub fn format_value(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        Some(x) => format!("{x:.2}"),
    }
}

/// One reason: `label=value(+0.81)`, the label in the report language (see [`label_zh`]).
pub fn reason(label: &str, value: Option<f64>, contribution: f64) -> String {
    format!("{label}={}({contribution:+.2})", format_value(value))
}
