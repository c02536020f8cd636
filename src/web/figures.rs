//! The figures page (统计): key figures, three charts drawn as SVG on the server, downloads.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use projections::figures::{Facts, Figures, FiguresProjection, Rate};

use super::i18n::Lang;
use super::layout::page;
use super::pages::{csv_download, xlsx_download};
use super::svg::{bar_chart, BarChart, Group};
use super::{query_pairs, PageContext, PageError};
use crate::http::AppState;
use crate::reading;
use crate::tables;
use crate::when::ReadAt;

/// Filed and answered items per month of one year.
pub(crate) type MonthlyCounts = [(u64, u64); 12];

fn year_asked(query: Option<&str>) -> Option<i16> {
    query_pairs(query)
        .into_iter()
        .find(|(key, _)| key == "year")
        .and_then(|(_, value)| value.parse().ok())
}

/// Items filed and answers given in each month of `year`.
fn monthly(facts: &[Facts], year: i16) -> MonthlyCounts {
    let mut months = [(0, 0); 12];
    let slot = |date: jiff::civil::Date| usize::try_from(date.month() - 1).ok();
    for fact in facts {
        let Facts::Item(item) = fact else { continue };
        if item.filed_on.year() == year {
            if let Some(month) = slot(item.filed_on).and_then(|m| months.get_mut(m)) {
                month.0 += 1;
            }
        }
        for answered_on in item.rounds.iter().filter_map(|round| round.answered_on) {
            if answered_on.year() == year {
                if let Some(month) = slot(answered_on).and_then(|m| months.get_mut(m)) {
                    month.1 += 1;
                }
            }
        }
    }
    months
}

fn rate_text(rate: &Rate) -> String {
    rate.value
        .map(|value| format!("{:.1}% ({}/{})", value * 100.0, rate.count, rate.n))
        .unwrap_or_else(|| "—".to_owned())
}

fn percent(rate: &Rate) -> String {
    rate.value
        .map(|value| format!("{:.1}%", value * 100.0))
        .unwrap_or_else(|| "—".to_owned())
}

fn charts(lang: Lang, figures: &Figures, months: &MonthlyCounts, year: i16) -> Markup {
    let monthly_groups: Vec<Group> = months
        .iter()
        .enumerate()
        .map(|(index, (filed, answered))| Group {
            label: format!("{}", index + 1),
            values: vec![Some(*filed as f64), Some(*answered as f64)],
            texts: vec![filed.to_string(), answered.to_string()],
        })
        .collect();
    let monthly_max = months
        .iter()
        .map(|(filed, answered)| (*filed).max(*answered))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let rate_group = |label: &str, rate: &Rate| Group {
        label: label.to_owned(),
        values: vec![rate.value],
        texts: vec![percent(rate)],
    };
    let leaders: Vec<Group> = figures
        .by_leader
        .iter()
        .map(|(leader, item)| rate_group(leader, &item.rates.on_time_rate))
        .collect();
    let years: Vec<Group> = figures
        .by_year
        .iter()
        .map(|(year, item)| rate_group(&year.to_string(), &item.rates.satisfaction_rate))
        .collect();
    let monthly_title = format!("{} · {year}", lang.t("figures.monthly"));
    html! {
        section id="charts" {
            h2 { (monthly_title) }
            (bar_chart(&BarChart {
                id: "chart-monthly",
                title: &monthly_title,
                series: vec![lang.t("figures.filed").to_owned(), lang.t("figures.answered").to_owned()],
                groups: monthly_groups,
                max: monthly_max,
            }))
            h2 { (lang.t("figures.on_time_by_leader")) }
            (bar_chart(&BarChart {
                id: "chart-on-time-by-leader",
                title: lang.t("figures.on_time_by_leader"),
                series: vec![lang.t("figures.on_time_rate").to_owned()],
                groups: leaders,
                max: 1.0,
            }))
            h2 { (lang.t("figures.satisfaction_by_year")) }
            (bar_chart(&BarChart {
                id: "chart-satisfaction-by-year",
                title: lang.t("figures.satisfaction_by_year"),
                series: vec![lang.t("figures.satisfaction_rate").to_owned()],
                groups: years,
                max: 1.0,
            }))
        }
    }
}

fn key_figures(lang: Lang, figures: &Figures) -> Markup {
    let items = &figures.items;
    let rates = &items.rates;
    let follows = &figures.follows;
    let lines = [
        ("figures.items", items.total.to_string()),
        ("count.answered", items.answered.to_string()),
        ("count.answered_on_time", items.answered_on_time.to_string()),
        ("count.closed", items.closed.to_string()),
        ("figures.answer_rate", rate_text(&rates.answer_rate)),
        ("figures.on_time_rate", rate_text(&rates.on_time_rate)),
        ("figures.contact_rate", rate_text(&rates.contact_rate)),
        (
            "figures.satisfaction_rate",
            rate_text(&rates.satisfaction_rate),
        ),
        (
            "figures.satisfied_or_basic_rate",
            rate_text(&rates.satisfied_or_basic_rate),
        ),
        ("figures.follows", follows.total.to_string()),
        (
            "figures.witnessed_actions",
            follows.witnessed_actions.to_string(),
        ),
        ("figures.mediations", follows.mediations.to_string()),
        ("figures.recovered_yuan", follows.recovered_yuan.clone()),
    ];
    html! {
        h2 { (lang.t("figures.summary")) }
        table id="key-figures" {
            thead { tr { th { (lang.t("figures.figure")) } th { (lang.t("figures.value")) } } }
            tbody {
                @for (key, value) in lines {
                    tr { td { (lang.t(key)) } td { (value) } }
                }
            }
        }
    }
}

/// Registered people per kind by congress level, then by township.
fn people_figures(lang: Lang, figures: &Figures) -> Markup {
    html! {
        h2 { (lang.t("figures.people")) }
        table id="people-figures" {
            thead { tr {
                th { (lang.t("figures.person_kind")) } th { (lang.t("figures.level_or_township")) }
                th { (lang.t("figures.people_count")) }
            } }
            tbody {
                @for (kind, levels) in &figures.people_by_level {
                    @for (level, n) in levels {
                        tr data-kind=(kind) data-level=(level) {
                            td { (lang.label("person_kind", kind)) } td { (lang.label("level", level)) }
                            td { (n) }
                        }
                    }
                }
                @for (kind, townships) in &figures.people_by_township {
                    @for (township, n) in townships {
                        tr data-kind=(kind) data-township=(township) {
                            td { (lang.label("person_kind", kind)) } td { (township) } td { (n) }
                        }
                    }
                }
            }
        }
    }
}

async fn load(
    app: &AppState,
    year: Option<i16>,
    lang: Lang,
) -> Result<(Figures, Vec<Facts>), PageError> {
    let figures = reading::figures(
        &app.stores,
        ReadAt::default(),
        year,
        &app.time_zone,
        &*app.clock,
    )
    .await
    .map_err(|error| PageError::failed(lang, error))?;
    let (facts, _, _) =
        reading::rows_as_of::<FiguresProjection>(&app.stores, ReadAt::default(), &*app.clock)
            .await
            .map_err(|error| PageError::failed(lang, error))?;
    Ok((figures, facts))
}

/// `GET /figures[?year=Y]`: every role may read the figures (as in the API).
pub(crate) async fn figures_page(
    State(app): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    context.require()?;
    let lang = context.lang;
    let year = year_asked(query.as_deref());
    let (figures, facts) = load(&app, year, lang).await?;
    // The monthly chart shows the year asked for, else the latest year with figures.
    let chart_year = year
        .or_else(|| figures.by_year.keys().next_back().copied())
        .unwrap_or_else(|| app.clock.now().to_zoned(app.time_zone.clone()).year());
    let months = monthly(&facts, chart_year);
    let downloads = year.map(|year| format!("?year={year}")).unwrap_or_default();
    let body = html! {
        form id="figures-year" method="get" action="/figures" {
            label { (lang.t("figures.year")) " "
                select name="year" {
                    option value="" { (lang.t("figures.all_years")) }
                    @for known in figures.by_year.keys() {
                        option value=(known) selected[year == Some(*known)] { (known) }
                    }
                }
            }
            " " button type="submit" { (lang.t("figures.show")) }
        }
        p {
            a id="download-figures-csv" href={ "/figures.csv" (downloads) } { (lang.t("figures.download_csv")) }
            " · "
            a id="download-figures-xlsx" href={ "/figures.xlsx" (downloads) } { (lang.t("figures.download_xlsx")) }
        }
        (key_figures(lang, &figures))
        (people_figures(lang, &figures))
        (charts(lang, &figures, &months, chart_year))
    };
    Ok(context.respond(
        StatusCode::OK,
        page(&context, lang.t("figures.title"), body),
    ))
}

/// `GET /figures.csv[?year=Y]`.
pub(crate) async fn figures_csv(
    State(app): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    context.require()?;
    let lang = context.lang;
    let (figures, _) = load(&app, year_asked(query.as_deref()), lang).await?;
    let text = tables::figures_csv(&figures).map_err(|error| PageError::internal(lang, error))?;
    Ok(csv_download("figures.csv", text))
}

/// `GET /figures.xlsx[?year=Y]`.
pub(crate) async fn figures_xlsx(
    State(app): State<AppState>,
    context: PageContext,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    context.require()?;
    let lang = context.lang;
    let (figures, _) = load(&app, year_asked(query.as_deref()), lang).await?;
    let body = tables::figures_xlsx(&figures).map_err(|error| PageError::internal(lang, error))?;
    Ok(xlsx_download("figures.xlsx", body))
}
