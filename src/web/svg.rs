//! Bar charts drawn as inline SVG on the server: a few rectangles and text. Each chart has a
//! `<title>` and a `<desc>`, and every bar its own `<title>` with the value, so the numbers are
//! there for a screen reader (and for a test that parses the SVG).

use maud::{html, Markup};

/// Chart width and height in SVG units.
const WIDTH: u32 = 720;
const HEIGHT: u32 = 260;
const MARGIN_LEFT: u32 = 48;
const MARGIN_BOTTOM: u32 = 56;
const MARGIN_TOP: u32 = 16;

/// One group of bars (a month, a leader, a year): its label and one value per series.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// The text shown for each value (`12`, `87.5%`, `—`).
    pub texts: Vec<String>,
}

/// A chart of groups of bars, one bar per series in each group.
#[derive(Debug, Clone)]
pub(crate) struct BarChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub series: Vec<String>,
    pub groups: Vec<Group>,
    /// The value at the top of the axis (at least the largest value).
    pub max: f64,
}

const COLOURS: [&str; 3] = ["#8b1a1a", "#4a6fa5", "#6a8d3a"];
/// Patterns beside colours, so series differ without colour.
const DASHES: [&str; 3] = ["none", "4 2", "1 1"];

/// Converts a value to a bar height in whole SVG units.
fn bar_height(value: f64, max: f64, plot_height: u32) -> u32 {
    // NaN compares false: a NaN value or axis draws no bar.
    let drawable = max > 0.0 && value > 0.0;
    if !drawable {
        return 0;
    }
    let share = (value / max).clamp(0.0, 1.0);
    // The share is in 0..=1 and the plot height is small, so this cannot overflow.
    (share * f64::from(plot_height)).round() as u32
}

/// The chart as an `<svg>` element.
pub(crate) fn bar_chart(chart: &BarChart<'_>) -> Markup {
    let plot_width = WIDTH - MARGIN_LEFT - 8;
    let plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP;
    let groups = u32::try_from(chart.groups.len().max(1)).unwrap_or(u32::MAX);
    let series = u32::try_from(chart.series.len().max(1)).unwrap_or(u32::MAX);
    let group_width = plot_width / groups;
    let bar_width = (group_width.saturating_sub(4) / series).max(1);
    let baseline = MARGIN_TOP + plot_height;
    let description: Vec<String> = chart
        .groups
        .iter()
        .map(|group| {
            let values: Vec<String> = chart
                .series
                .iter()
                .zip(&group.texts)
                .map(|(name, text)| format!("{name} {text}"))
                .collect();
            format!("{}: {}", group.label, values.join(", "))
        })
        .collect();
    let title_id = format!("{}-title", chart.id);
    let desc_id = format!("{}-desc", chart.id);
    html! {
        svg id=(chart.id) xmlns="http://www.w3.org/2000/svg" role="img"
            viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width=(WIDTH) height=(HEIGHT)
            aria-labelledby={ (title_id) " " (desc_id) } {
            title id=(title_id) { (chart.title) }
            desc id=(desc_id) { (description.join("; ")) }
            line x1=(MARGIN_LEFT) y1=(baseline) x2=(WIDTH - 8) y2=(baseline) stroke="#333" {}
            line x1=(MARGIN_LEFT) y1=(MARGIN_TOP) x2=(MARGIN_LEFT) y2=(baseline) stroke="#333" {}
            text x="4" y=(MARGIN_TOP + 4) font-size="11" { (format_axis(chart.max)) }
            text x="4" y=(baseline) font-size="11" { "0" }
            @for (index, name) in chart.series.iter().enumerate() {
                @let x = MARGIN_LEFT + 8 + u32::try_from(index).unwrap_or(0) * 120;
                rect x=(x) y=(HEIGHT - 14) width="10" height="10" fill=(COLOURS[index % 3])
                    stroke="#000" stroke-dasharray=(DASHES[index % 3]) {}
                text x=(x + 14) y=(HEIGHT - 5) font-size="11" { (name) }
            }
            @for (group_index, group) in chart.groups.iter().enumerate() {
                @let group_x = MARGIN_LEFT + 2 + u32::try_from(group_index).unwrap_or(0) * group_width;
                g class="group" data-label=(group.label) {
                    @for (index, value) in group.values.iter().enumerate() {
                        @let height = bar_height(value.unwrap_or(0.0), chart.max, plot_height);
                        @let x = group_x + u32::try_from(index).unwrap_or(0) * bar_width;
                        rect class="bar" x=(x) y=(baseline - height) width=(bar_width.saturating_sub(1).max(1))
                            height=(height) fill=(COLOURS[index % 3]) stroke="#000"
                            stroke-dasharray=(DASHES[index % 3])
                            data-series=(chart.series.get(index).map_or("", String::as_str))
                            data-value=(group.texts.get(index).map_or("", String::as_str)) {
                            title {
                                (group.label) " · " (chart.series.get(index).map_or("", String::as_str))
                                ": " (group.texts.get(index).map_or("", String::as_str))
                            }
                        }
                    }
                    text x=(group_x) y=(baseline + 14) font-size="10" { (group.label) }
                }
            }
        }
    }
}

fn format_axis(max: f64) -> String {
    if max <= 1.0 {
        format!("{:.0}%", max * 100.0)
    } else {
        format!("{max:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_axis_and_never_overflow_it() {
        assert_eq!(bar_height(5.0, 10.0, 100), 50);
        assert_eq!(bar_height(20.0, 10.0, 100), 100);
        assert_eq!(bar_height(1.0, 0.0, 100), 0);
        assert_eq!(bar_height(f64::NAN, 10.0, 100), 0);
    }
}
