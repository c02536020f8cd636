//! The board and the figures as tables: CSV text and XLSX workbooks, the same for
//! `huiyin board|stats --format csv|xlsx` and the web pages' download buttons.
//!
//! A CSV cell that a spreadsheet would read as a formula (one starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) is written with a single quote before it ([`csv_cell`], as OWASP's
//! "CSV Injection" advice has it): the ledger keeps the text verbatim, JSON shows it verbatim,
//! and the workbooks hold every cell as a string, never a formula.

use projections::board::{BoardItem, BoardView};
use projections::figures::{Figures, ItemFigures, Rate};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The CSV writer failed.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The workbook writer failed.
    #[error(transparent)]
    Xlsx(#[from] XlsxError),
    /// The CSV text is not UTF-8 or could not be flushed (a bug).
    #[error("the CSV text cannot be finished: {0}")]
    Finish(String),
}

/// One CSV cell as it is written: text a spreadsheet would run as a formula gets a single quote
/// before it, the rest kept verbatim; a plain number (`-3` days left) is left as the number it is.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let formula_like = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula_like && !is_plain_number(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A decimal number and nothing else: an optional sign, digits, an optional fraction.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|byte| byte.is_ascii_digit())
        && fraction.bytes().all(|byte| byte.is_ascii_digit())
}

/// Writes one CSV line, each cell through [`csv_cell`].
fn write_line<'a>(
    writer: &mut csv::Writer<Vec<u8>>,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<(), TableError> {
    for cell in cells {
        writer.write_field(csv_cell(cell).as_bytes())?;
    }
    // An empty record ends the line of the fields written.
    writer.write_record(None::<&[u8]>)?;
    Ok(())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<String, TableError> {
    let bytes = writer
        .into_inner()
        .map_err(|error| TableError::Finish(error.to_string()))?;
    String::from_utf8(bytes).map_err(|error| TableError::Finish(error.to_string()))
}

/// The board's columns, in CSV, XLSX and the terminal table.
pub const BOARD_HEADER: [&str; 13] = [
    "item_id",
    "kind",
    "status",
    "round",
    "leader",
    "lead_unit",
    "due",
    "days_left",
    "flag",
    "class",
    "rating",
    "deputies",
    "title",
];

/// One board item as the cells of [`BOARD_HEADER`].
pub fn board_cells(item: &BoardItem) -> [String; 13] {
    let flag = if item.overdue {
        "OVERDUE 逾期"
    } else if item.due_soon {
        "due soon 临期"
    } else {
        ""
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    [
        item.item_id.clone(),
        item.kind.clone(),
        item.status.clone(),
        item.round.to_string(),
        text(&item.leader),
        text(&item.lead_unit),
        item.due.map(|due| due.to_string()).unwrap_or_default(),
        item.days_left
            .map(|days| days.to_string())
            .unwrap_or_default(),
        flag.to_owned(),
        text(&item.class),
        text(&item.rating),
        item.deputies.join("、"),
        item.title.clone(),
    ]
}

/// The board as CSV text, a header line first, each cell through [`csv_cell`].
///
/// # Errors
/// [`TableError`] when the writer fails.
pub fn board_csv(view: &BoardView) -> Result<String, TableError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_line(&mut writer, BOARD_HEADER)?;
    for item in &view.items {
        write_line(&mut writer, board_cells(item).iter().map(String::as_str))?;
    }
    finish(writer)
}

/// One line per figure: its Chinese and English name, its value and its counts.
pub fn figure_lines(figures: &ItemFigures) -> Vec<[String; 4]> {
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

/// The follows, engagements and people figures as name–value lines.
pub fn other_lines(figures: &Figures) -> Vec<[String; 2]> {
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
    for (kind, levels) in &figures.people_by_level {
        for (level, n) in levels {
            lines.push([format!("人员 people {kind} level {level}"), n.to_string()]);
        }
    }
    for (kind, townships) in &figures.people_by_township {
        for (township, n) in townships {
            lines.push([
                format!("人员 people {kind} township {township}"),
                n.to_string(),
            ]);
        }
    }
    lines
}

/// The figures as CSV text: group, figure, value, count, n; each cell through [`csv_cell`].
///
/// # Errors
/// [`TableError`] when the writer fails.
pub fn figures_csv(figures: &Figures) -> Result<String, TableError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write_line(&mut writer, ["group", "figure", "value", "count", "n"])?;
    let mut write = |group: &str, item: &ItemFigures| -> Result<(), TableError> {
        for [figure, value, count, n] in figure_lines(item) {
            write_line(&mut writer, [group, &figure, &value, &count, &n])?;
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
        write_line(
            &mut writer,
            ["follows and engagements", &figure, &value, "", ""],
        )?;
    }
    finish(writer)
}

fn column_index(column: usize) -> Result<u16, TableError> {
    u16::try_from(column).map_err(|_| TableError::Xlsx(XlsxError::RowColumnLimitError))
}

fn row_index(row: usize) -> Result<u32, TableError> {
    u32::try_from(row).map_err(|_| TableError::Xlsx(XlsxError::RowColumnLimitError))
}

fn header(sheet: &mut Worksheet, columns: &[&str]) -> Result<(), TableError> {
    let bold = Format::new().set_bold();
    for (column, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, column_index(column)?, *name, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn rows<const N: usize>(
    sheet: &mut Worksheet,
    lines: impl IntoIterator<Item = [String; N]>,
) -> Result<(), TableError> {
    for (row, line) in lines.into_iter().enumerate() {
        for (column, cell) in line.iter().enumerate() {
            // Always a string cell: text that looks like a formula stays text.
            sheet.write_string(row_index(row + 1)?, column_index(column)?, cell)?;
        }
    }
    sheet.autofit();
    Ok(())
}

/// The board as a workbook of one sheet.
///
/// # Errors
/// [`TableError`] when the workbook cannot be written.
pub fn board_xlsx(view: &BoardView) -> Result<Vec<u8>, TableError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name("督办台账")?;
    header(sheet, &BOARD_HEADER)?;
    rows(sheet, view.items.iter().map(board_cells))?;
    Ok(workbook.save_to_buffer()?)
}

/// The figures as a workbook: one sheet overall, one of follows and engagements, then one per
/// year.
///
/// # Errors
/// [`TableError`] when the workbook cannot be written.
pub fn figures_xlsx(figures: &Figures) -> Result<Vec<u8>, TableError> {
    let mut workbook = Workbook::new();
    let columns = ["指标 figure", "值 value", "count", "n"];
    let sheet = workbook.add_worksheet().set_name("统计")?;
    header(sheet, &columns)?;
    rows(sheet, figure_lines(&figures.items))?;
    let sheet = workbook.add_worksheet().set_name("跟案与联络")?;
    header(sheet, &["指标 figure", "值 value"])?;
    rows(sheet, other_lines(figures))?;
    for (year, item) in &figures.by_year {
        let sheet = workbook.add_worksheet().set_name(format!("{year}年"))?;
        header(sheet, &columns)?;
        rows(sheet, figure_lines(item))?;
    }
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, is_plain_number};

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_single_quote_and_keep_the_rest_verbatim() {
        for text in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1,1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
            "=",
            "-",
            "-1e5",
            "--1",
            "-.5",
        ] {
            assert_eq!(csv_cell(text), format!("'{text}"), "{text:?}");
        }
    }

    #[test]
    fn other_cells_and_plain_numbers_are_written_as_they_are() {
        for text in [
            "",
            "关于执行款发放的建议",
            "a=1",
            " =1+1",
            "'=1",
            "＝1+1",
            "-3",
            "+12",
            "-0.5",
            "12.5%",
            "2024-H-001",
        ] {
            assert_eq!(csv_cell(text), text, "{text:?}");
        }
        assert!(is_plain_number("-3") && is_plain_number("7.25"));
        assert!(!is_plain_number("-") && !is_plain_number("1.") && !is_plain_number("-3 "));
    }
}
