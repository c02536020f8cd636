//! The command line (names fixed by DESIGN.md §6).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// 回音 Huiyin: the supervision and feedback ledger. Every item answered, every act provable.
#[derive(Debug, Parser)]
#[command(name = "huiyin", version)]
pub(crate) struct Cli {
    /// The ledger: a SQLite file path or sqlite://PATH, or postgres://… for PostgreSQL.
    #[arg(long, env = "HUIYIN_DB", default_value = crate::DEFAULT_DB, global = true)]
    pub(crate) db: String,
    /// The settings file (time zone, deadlines, calendar; see docs/configuration.md). Default:
    /// huiyin.toml in the working directory if there is one.
    #[arg(long, env = "HUIYIN_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Runs one JSON command, or JSON Lines of them; prints one result line per command.
    Exec(ExecArgs),
    /// The tracking board (督办台账).
    Board(BoardArgs),
    /// The figures (统计): rates with their counts, per year, leader and lead unit.
    Stats(StatsArgs),
    /// An item's trail (履历): every record with its position and hash.
    Trail(TrailArgs),
    /// Re-hashes the whole log and checks every link; exit 2 names the first bad position.
    Verify(VerifyArgs),
    /// Loads the demonstration ledger and prints its board.
    Demo(DemoArgs),
    /// Rebuilds every projection table from position 0, with a progress bar.
    Rebuild(RebuildArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// Who issues the commands (a line's own `actor` wins).
    #[arg(long)]
    pub(crate) actor: Option<String>,
    /// In which role (a line's own `role` wins).
    #[arg(long)]
    pub(crate) role: Option<String>,
    /// A file of commands, or `-` for standard input.
    pub(crate) file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
    /// An Excel workbook (board and stats only); needs --out.
    Xlsx,
}

#[derive(Debug, Args)]
pub(crate) struct BoardArgs {
    /// Show the board as the ledger knew it at a position (a number) or a time (RFC 3339).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
    /// The moment due-soon and overdue are judged at (RFC 3339 or YYYY-MM-DD); default: the
    /// as-of moment, else now.
    #[arg(long)]
    pub(crate) now: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Where to write an xlsx workbook.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// Only items filed in this year.
    #[arg(long)]
    pub(crate) year: Option<i16>,
    /// The figures as the ledger knew them at a position or a time.
    #[arg(long)]
    pub(crate) as_of: Option<String>,
    /// The moment overdue is judged at (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub(crate) now: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Where to write an xlsx workbook.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TrailArgs {
    /// The item's id.
    pub(crate) item_id: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print the board as JSON instead of a table.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct RebuildArgs {
    /// No progress bar (for scripts and logs).
    #[arg(long)]
    pub(crate) quiet: bool,
}
