//! Excel workbooks for the liaison office: the board and the figures, written to a file.

use std::path::Path;

use huiyin::tables;
use projections::board::BoardView;
use projections::figures::Figures;

/// Writes the board as one sheet.
pub(crate) fn write_board(view: &BoardView, out: &Path) -> anyhow::Result<()> {
    std::fs::write(out, tables::board_xlsx(view)?)?;
    Ok(())
}

/// Writes the figures: one sheet overall, then one per year.
pub(crate) fn write_figures(figures: &Figures, out: &Path) -> anyhow::Result<()> {
    std::fs::write(out, tables::figures_xlsx(figures)?)?;
    Ok(())
}
