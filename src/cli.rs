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
    /// At most this many connections to PostgreSQL (each process; the server's
    /// max_connections is shared by all of them). SQLite ignores it.
    #[arg(long, env = "HUIYIN_DB_CONNECTIONS", default_value_t = infra::store::PG_CONNECTIONS_MAX,
          value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub(crate) db_connections: u32,
    /// The settings file (time zone, deadlines, calendar; see docs/configuration.md). Default:
    /// huiyin.toml in the working directory if there is one.
    #[arg(long, env = "HUIYIN_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The ledger's name: its checkpoints' origin is `huiyin/<name>`.
    #[arg(long, env = "HUIYIN_LEDGER", default_value = crate::DEFAULT_LEDGER, global = true)]
    pub(crate) ledger: String,
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
    /// Re-hashes the whole log (or an export) and checks every link, the Merkle tree and the
    /// checkpoints; exit 2 names the first bad position.
    Verify(VerifyArgs),
    /// Loads the demonstration ledger and prints its board.
    Demo(DemoArgs),
    /// Evaluates the reminder and notice rules as of --now and queues what is due, once per
    /// notice ever; prints one JSON line per newly queued notice.
    Remind(RemindArgs),
    /// Delivers the queued notifications that are due (e-mail, webhook), with retries; prints a
    /// JSON summary.
    Send(SendArgs),
    /// Runs until Ctrl-C or SIGTERM: queues status notices as the log grows, the day's
    /// reminders and digests at [reminders] daily_at, and delivers what is due every
    /// --send-every-s seconds (and at once after queueing). Run it beside `huiyin serve`.
    Notify(NotifyArgs),
    /// Rebuilds every projection table from position 0, with a progress bar.
    Rebuild(RebuildArgs),
    /// Signs, stores and prints a checkpoint of the current log (C2SP tlog-checkpoint note).
    Checkpoint(CheckpointArgs),
    /// Countersigns the latest checkpoint with a witness key (C2SP cosignature/v1) and stores it.
    Cosign(CosignArgs),
    /// Prints an inclusion proof (--index) or a consistency proof (--from, --to) as JSON.
    Prove(ProveArgs),
    /// Checks proofs offline, without a database.
    #[command(subcommand)]
    Tlog(TlogCommand),
    /// Makes an Ed25519 key pair as C2SP key strings: PREFIX.key (secret, mode 0600) and
    /// PREFIX.pub.
    Keygen(KeygenArgs),
    /// Writes the whole log as JSON Lines ending with a signed checkpoint.
    Export(ExportArgs),
    /// Restores an export into an empty ledger, after verifying all of it.
    Import(ImportArgs),
    /// Serves the HTTP API until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Bearer tokens for programs: issue (printed once) and revoke.
    Token(TokenArgs),
    /// Passwords for people, who log in at POST /login.
    Password(PasswordArgs),
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
pub(crate) struct VerifyArgs {
    /// Verify this export file instead of the database (no database is opened).
    #[arg(long)]
    pub(crate) export: Option<PathBuf>,
    /// A signed checkpoint held outside the database; the log must match it.
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// The ledger's verifier key (the key string, or a file holding it): checkpoint signatures
    /// must verify with it.
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// A witness's verifier key (the key string, or a file): its cosignatures must verify.
    #[arg(long)]
    pub(crate) witness_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    /// The ledger's signer key file (PRIVATE+KEY+…), named after the origin.
    #[arg(long, env = "HUIYIN_KEY")]
    pub(crate) key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CosignArgs {
    /// The witness's signer key file (made with `keygen --witness`).
    #[arg(long)]
    pub(crate) key: PathBuf,
    /// The ledger's verifier key (string or file): the checkpoint must carry its signature.
    #[arg(long)]
    pub(crate) log_key: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["index", "from"])))]
pub(crate) struct ProveArgs {
    /// Inclusion: the record's position (its leaf index).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub(crate) index: Option<u64>,
    /// Inclusion: the tree size (default: the whole log).
    #[arg(long, requires = "index")]
    pub(crate) size: Option<u64>,
    /// Consistency: the older tree size (at least 1).
    #[arg(long)]
    pub(crate) from: Option<u64>,
    /// Consistency: the newer tree size (default: the whole log).
    #[arg(long, requires = "from")]
    pub(crate) to: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TlogCommand {
    /// Checks an inclusion proof; exit 0 valid, 1 invalid with the reason.
    VerifyInclusion(VerifyInclusionArgs),
    /// Checks a consistency proof; exit 0 valid, 1 invalid with the reason.
    VerifyConsistency(VerifyConsistencyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyInclusionArgs {
    /// The record's leaf hash (64 hex).
    #[arg(long)]
    pub(crate) leaf_hash: String,
    /// The leaf index (the record's position).
    #[arg(long)]
    pub(crate) index: u64,
    /// The tree size.
    #[arg(long)]
    pub(crate) size: u64,
    /// The root of the tree of that size (64 hex).
    #[arg(long)]
    pub(crate) root: String,
    /// The proof hashes, comma-separated hex (empty for a one-record tree).
    #[arg(long, default_value = "")]
    pub(crate) proof: String,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyConsistencyArgs {
    /// The older tree size.
    #[arg(long)]
    pub(crate) size1: u64,
    /// The newer tree size.
    #[arg(long)]
    pub(crate) size2: u64,
    /// The older root (64 hex).
    #[arg(long)]
    pub(crate) root1: String,
    /// The newer root (64 hex).
    #[arg(long)]
    pub(crate) root2: String,
    /// The proof hashes, comma-separated hex (empty when the sizes are equal).
    #[arg(long, default_value = "")]
    pub(crate) proof: String,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key's name: the checkpoint origin (default huiyin/<ledger>), or the witness's name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Write PREFIX.key and PREFIX.pub (neither may exist yet).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Make a witness key (C2SP cosignature/v1, type 0x04) instead of a checkpoint key.
    #[arg(long)]
    pub(crate) witness: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The file to write (it must not exist yet).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Sign a fresh checkpoint of the whole log with this signer key file. Without it, the
    /// export ends at the latest stored checkpoint and leaves later records out.
    #[arg(long)]
    pub(crate) key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The export file.
    pub(crate) file: PathBuf,
    /// The ledger's verifier key (string or file): the export's checkpoint must verify with it.
    #[arg(long)]
    pub(crate) key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print the board as JSON instead of a table.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// The seed of the story: the same seed (on the same day) tells the same story.
    #[arg(long, default_value_t = crate::demo::SEED_DEFAULT)]
    pub(crate) seed: u64,
}

#[derive(Debug, Args)]
pub(crate) struct RemindArgs {
    /// The moment to judge at: an RFC 3339 time, or a date (its end, local time).
    #[arg(long)]
    pub(crate) now: String,
    /// Print what would be queued, and queue nothing.
    #[arg(long, conflicts_with = "skip_history")]
    pub(crate) dry_run: bool,
    /// First fold the records the notices have not seen yet WITHOUT queueing their status
    /// notices: once, when setting notices up on a ledger with a history, so that deputies are
    /// told of what happens from now on, not of every act of the years before.
    #[arg(long)]
    pub(crate) skip_history: bool,
}

#[derive(Debug, Args)]
pub(crate) struct NotifyArgs {
    /// Seconds between looks at the outbox for notifications due (retries after back-off).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) send_every_s: u64,
    /// Before starting, fold the records the notices have not seen yet WITHOUT queueing their
    /// status notices (as `remind --skip-history`).
    #[arg(long)]
    pub(crate) skip_history: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The moment the sender takes as now (an RFC 3339 time); default the clock.
    #[arg(long)]
    pub(crate) now: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RebuildArgs {
    /// No progress bar (for scripts and logs).
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Port 0 picks a free port; the address is printed. The session cookie is
    /// marked Secure unless this is a loopback address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: String,
    /// Load the demonstration ledger first (appends nothing if it is already loaded).
    #[arg(long)]
    pub(crate) demo: bool,
    /// Sign a checkpoint with this signer key (from `huiyin keygen`) at start and then every
    /// `--checkpoint-every-s` seconds, whenever the log has grown.
    #[arg(long, env = "HUIYIN_CHECKPOINT_KEY")]
    pub(crate) checkpoint_key: Option<PathBuf>,
    /// Seconds between signed checkpoints.
    #[arg(long, env = "HUIYIN_CHECKPOINT_EVERY_S", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) checkpoint_every_s: u64,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    pub(crate) command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issues a token and prints it once, as JSON: {"token_id","token","person_id","role","expires_at"}.
    Issue {
        /// The person the token acts for.
        #[arg(long)]
        person: String,
        /// The role it acts in.
        #[arg(long)]
        role: String,
        /// Days until it stops working.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3650))]
        days: u16,
    },
    /// Revokes a token by its token_id; exit 1 if there is no such unrevoked token.
    Revoke {
        /// The token_id printed at issue.
        token_id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PasswordArgs {
    #[command(subcommand)]
    pub(crate) command: PasswordCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Sets a person's password, read from the first line of standard input, and the roles it may
    /// log in as; ends the person's sessions.
    Set {
        /// The person.
        #[arg(long)]
        person: String,
        /// A role the password may log in as (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}
