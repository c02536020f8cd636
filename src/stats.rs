//! `huiyin stats`: the figures (统计), live or as of a moment.

use std::process::ExitCode;

use aggregates::rules::Rules;
use anyhow::Context;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use commands::SystemClock;
use huiyin::reading;
use huiyin::when::ReadAt;
use infra::store::Stores;
use projections::figures::{Figures, ItemFigures, Rate};

use crate::cli::{Format, StatsArgs};
use crate::output;

pub(crate) async fn run(
    stores: &Stores,
    rules: &Rules,
    args: StatsArgs,
) -> anyhow::Result<ExitCode> {
    let time_zone = &rules.deadlines.time_zone;
    let at = ReadAt::parse(args.as_of.as_deref(), args.now.as_deref(), time_zone)?;
    let figures = reading::figures(stores, at, args.year, time_zone, &SystemClock).await?;
    match args.format {
        Format::Json => output::json_pretty(&figures)?,
        Format::Csv => output::text(&figures_csv(&figures)?)?,
        Format::Table => output::text(&figures_table(&figures))?,
        Format::Xlsx => {
            let out = args
                .out
                .as_deref()
                .context("--format xlsx needs --out FILE")?;
            crate::xlsx::write_figures(&figures, out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per figure: its Chinese and English name, its value and its counts.
pub(crate) fn figure_lines(figures: &ItemFigures) -> Vec<[String; 4]> {
    let rate = |name: &str, rate: &Rate| {
        [
            name.to_owned(),
            rate.value
                .map(|value| format!("{:.1}%", value * 100.0))
                .unwrap_or_else(|| "—".to_owned()),
            rate.count.to_string(),
            rate.n.to_string(),
        ]
    };
    let count = |name: &str, value: u64| {
        [
            name.to_owned(),
            value.to_string(),
            String::new(),
            String::new(),
        ]
    };
    let rates = &figures.rates;
    let mut lines = vec![
        count("件数 items", figures.total),
        count("应办复 due", figures.due),
        count("已办复 answered", figures.answered),
        count("按期办复 answered on time", figures.answered_on_time),
        count("逾期未办复 overdue unanswered", figures.overdue_unanswered),
        count("已销号 closed", figures.closed),
        count("延期 extensions", figures.extensions),
        rate("办复率 answer rate", &rates.answer_rate),
        rate("按期办复率 on-time rate", &rates.on_time_rate),
        rate("见面率 contact rate", &rates.contact_rate),
        rate("满意率 satisfaction rate", &rates.satisfaction_rate),
        rate(
            "满意+基本满意率 satisfied or basic",
            &rates.satisfied_or_basic_rate,
        ),
        count(
            "不满意转满意 unsatisfied then satisfied",
            figures.unsatisfied_then_satisfied,
        ),
        [
            "办理天数中位数 median handling days".to_owned(),
            figures
                .median_handling_days
                .map(|days| format!("{days:.1}"))
                .unwrap_or_else(|| "—".to_owned()),
            String::new(),
            String::new(),
        ],
        [
            "承诺兑现 commitments kept".to_owned(),
            figures.commitments.kept.to_string(),
            figures.commitments.kept.to_string(),
            figures.commitments.made.to_string(),
        ],
    ];
    for (class, n) in &figures.classes {
        lines.push(count(&format!("{class}类答复 class {class}"), *n));
    }
    for (kind, n) in &figures.by_kind {
        lines.push(count(&format!("类型 kind {kind}"), *n));
    }
    lines
}

fn figures_table(figures: &Figures) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["figure 指标", "value 值", "count", "n"]);
    for line in figure_lines(&figures.items) {
        table.add_row(line);
    }
    let mut groups = Table::new();
    groups.load_preset(UTF8_FULL_CONDENSED).set_header([
        "group 分组",
        "items",
        "answered",
        "on time",
        "answer rate",
        "on-time rate",
        "satisfaction",
    ]);
    let percent = |rate: &Rate| {
        rate.value
            .map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_default()
    };
    let mut add = |label: String, item: &ItemFigures| {
        groups.add_row([
            label,
            item.total.to_string(),
            item.answered.to_string(),
            item.answered_on_time.to_string(),
            percent(&item.rates.answer_rate),
            percent(&item.rates.on_time_rate),
            percent(&item.rates.satisfaction_rate),
        ]);
    };
    for (year, item) in &figures.by_year {
        add(format!("{year}年"), item);
    }
    for (leader, item) in &figures.by_leader {
        add(format!("领导 {leader}"), item);
    }
    for (unit, item) in &figures.by_lead_unit {
        add(format!("承办 {unit}"), item);
    }
    let mut others = Table::new();
    others
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["跟案与联络 follows and engagements", "value 值"]);
    for [name, value] in other_lines(figures) {
        others.add_row([name, value]);
    }
    let scope = figures
        .year
        .map(|year| format!("{year}年"))
        .unwrap_or_else(|| "全部年度 all years".to_owned());
    format!(
        "统计 figures · {scope} · as of position {} at {}\n{table}\n{groups}\n{others}",
        figures
            .as_of_position
            .map(|p| p.to_string())
            .unwrap_or_else(|| "(empty log)".to_owned()),
        figures.now,
    )
}

/// The follows, engagements and people figures as name–value lines.
pub(crate) fn other_lines(figures: &Figures) -> Vec<[String; 2]> {
    let follows = &figures.follows;
    let mut lines = vec![
        ["跟案 case follows".to_owned(), follows.total.to_string()],
        ["已结束 ended".to_owned(), follows.ended.to_string()],
        [
            "执行措施 enforcement actions".to_owned(),
            follows.actions.to_string(),
        ],
        [
            "代表见证 witnessed actions".to_owned(),
            follows.witnessed_actions.to_string(),
        ],
        ["调解 mediations".to_owned(), follows.mediations.to_string()],
        [
            "调解成功 settled mediations".to_owned(),
            follows.settled_mediations.to_string(),
        ],
        [
            "执行到位金额（元）recovered yuan".to_owned(),
            follows.recovered_yuan.clone(),
        ],
    ];
    for (kind, n) in &figures.engagements {
        lines.push([format!("联络活动 engagement {kind}"), n.to_string()]);
    }
    for (kind, n) in &figures.people {
        lines.push([format!("人员 people {kind}"), n.to_string()]);
    }
    lines
}

fn figures_csv(figures: &Figures) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["group", "figure", "value", "count", "n"])?;
    let mut write = |group: &str, item: &ItemFigures| -> anyhow::Result<()> {
        for [figure, value, count, n] in figure_lines(item) {
            writer.write_record([group, &figure, &value, &count, &n])?;
        }
        Ok(())
    };
    write("all", &figures.items)?;
    for (year, item) in &figures.by_year {
        write(&format!("year {year}"), item)?;
    }
    for (leader, item) in &figures.by_leader {
        write(&format!("leader {leader}"), item)?;
    }
    for (unit, item) in &figures.by_lead_unit {
        write(&format!("lead unit {unit}"), item)?;
    }
    for [figure, value] in other_lines(figures) {
        writer.write_record(["follows and engagements", &figure, &value, "", ""])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
