//! Excel workbooks for the liaison office: the board and the figures.

use std::path::Path;

use projections::board::BoardView;
use projections::figures::Figures;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::read::{board_cells, BOARD_HEADER};
use crate::stats::figure_lines;

fn header(sheet: &mut Worksheet, columns: &[&str]) -> anyhow::Result<()> {
    let bold = Format::new().set_bold();
    for (column, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(column)?, *name, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn rows<const N: usize>(
    sheet: &mut Worksheet,
    lines: impl IntoIterator<Item = [String; N]>,
) -> anyhow::Result<()> {
    for (row, line) in lines.into_iter().enumerate() {
        for (column, cell) in line.iter().enumerate() {
            sheet.write_string(u32::try_from(row + 1)?, u16::try_from(column)?, cell)?;
        }
    }
    sheet.autofit();
    Ok(())
}

/// Writes the board as one sheet.
pub(crate) fn write_board(view: &BoardView, out: &Path) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name("督办台账")?;
    header(sheet, &BOARD_HEADER)?;
    rows(sheet, view.items.iter().map(board_cells))?;
    workbook.save(out)?;
    Ok(())
}

/// Writes the figures: one sheet overall, then one per year.
pub(crate) fn write_figures(figures: &Figures, out: &Path) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    let columns = ["指标 figure", "值 value", "count", "n"];
    let sheet = workbook.add_worksheet().set_name("统计")?;
    header(sheet, &columns)?;
    rows(sheet, figure_lines(&figures.items))?;
    let sheet = workbook.add_worksheet().set_name("跟案与联络")?;
    header(sheet, &["指标 figure", "值 value"])?;
    rows(sheet, crate::stats::other_lines(figures))?;
    for (year, item) in &figures.by_year {
        let sheet = workbook.add_worksheet().set_name(format!("{year}年"))?;
        header(sheet, &columns)?;
        rows(sheet, figure_lines(item))?;
    }
    workbook.save(out)?;
    Ok(())
}
