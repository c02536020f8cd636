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

use huiyin::tables::{figure_lines, figures_csv, other_lines};

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
