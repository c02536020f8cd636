//! E-mail through a real SMTP server (issue 9): Debian's `python3-aiosmtpd` on a free loopback
//! port (`tests/smtp/sink.py`), fed by `huiyin send` (the binary) with `[sender.email]`; the
//! messages are checked as Python's e-mail parser decodes them: recipient, `Message-ID`, and the
//! Chinese subject and body intact.
//!
//! Without aiosmtpd these tests are skipped with a loud banner (shown as 'ignored'), unless
//! `HUIYIN_REQUIRE_SMTP=1` (which `.ci/run` sets, after installing it): then they fail.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use libtest_mimic::Trial;
use serde_json::Value;

use crate::e2e::{exec, lifecycle};
use crate::remind::{remind, settings};
use crate::support::{huiyin, on_both, Fresh};

pub fn trials() -> Vec<Trial> {
    smtp_trials(
        "smtp",
        "huiyin_send_delivers_chinese_mail_intact_to_a_real_smtp_server",
        huiyin_send_delivers_chinese_mail_intact_to_a_real_smtp_server,
    )
}

/// How long the sink may take to start.
const START_BOUND: Duration = Duration::from_secs(30);

fn smtp_required() -> bool {
    std::env::var("HUIYIN_REQUIRE_SMTP").is_ok_and(|value| value == "1")
}

/// A Python that can import aiosmtpd: `HUIYIN_TEST_PYTHON`, else Debian's `/usr/bin/python3`
/// (where `apt-get install python3-aiosmtpd` puts it), else `python3` on the PATH.
pub fn aiosmtpd_python() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(python) = std::env::var("HUIYIN_TEST_PYTHON") {
        candidates.push(python.into());
    }
    candidates.push("/usr/bin/python3".into());
    candidates.push("python3".into());
    for python in &candidates {
        let imported = Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if imported.is_ok_and(|status| status.success()) {
            return Ok(python.clone());
        }
    }
    Err(format!(
        "no Python with aiosmtpd among {candidates:?} (apt-get install python3-aiosmtpd)"
    ))
}

/// Prints the banner that says the SMTP tests were skipped, if they were.
pub fn announce_skip() {
    if let Err(reason) = aiosmtpd_python() {
        if !smtp_required() {
            eprintln!();
            eprintln!("##########################################################################");
            eprintln!("# WARNING: real-SMTP tests SKIPPED (shown as 'ignored' below).");
            eprintln!("# {reason}.");
            eprintln!("# .ci/run installs it and sets HUIYIN_REQUIRE_SMTP=1 so they cannot be");
            eprintln!("# skipped.");
            eprintln!("##########################################################################");
            eprintln!();
        }
    }
}

/// [`on_both`], and skipped (loudly) without aiosmtpd unless it is required.
pub fn smtp_trials<F, Fut>(area: &str, name: &str, test: F) -> Vec<Trial>
where
    F: Fn(Fresh) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let skip = !smtp_required() && aiosmtpd_python().is_err();
    on_both(area, name, test)
        .into_iter()
        .map(|trial| {
            let ignored = trial.has_ignored_flag() || skip;
            trial.with_ignored_flag(ignored)
        })
        .collect()
}

/// aiosmtpd serving on loopback, writing what it accepts to a folder; killed when dropped.
pub struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl SmtpSink {
    /// Starts the sink and waits (bounded) for the port it prints.
    ///
    /// # Panics
    /// When aiosmtpd is missing (the trial is skipped before, unless it is required) or the sink
    /// does not start.
    pub fn start() -> SmtpSink {
        let python = aiosmtpd_python().unwrap_or_else(|reason| {
            panic!("aiosmtpd is required (HUIYIN_REQUIRE_SMTP=1): {reason}")
        });
        let dir = tempfile::tempdir().expect("temporary folder");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let (tell, told) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tell.send(line);
        });
        let line = match told.recv_timeout(START_BOUND) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP sink printed no port within {START_BOUND:?}");
            }
        };
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the SMTP sink printed {line:?}, not a port")
        });
        SmtpSink { child, dir, port }
    }

    /// Every message accepted so far, in order, as the sink decoded it.
    pub fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read the sink's folder")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("read a message");
                serde_json::from_str(&text).expect("the sink's JSON")
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn huiyin_send_delivers_chinese_mail_intact_to_a_real_smtp_server(db: Fresh) {
    let sink = SmtpSink::start();
    let settings = settings(&format!(
        "[reminders.to]\ndigest = []\n[sender.email]\nsmtp_host = \"127.0.0.1\"\n\
         smtp_port = {}\nfrom = \"回音 <huiyin@court.example>\"",
        sink.port
    ));
    let (code, _) = exec(&db, &lifecycle("2024-S-001")[..3]);
    assert_eq!(code, Some(0));
    // Assigned (to d-1 by e-mail and webhook) and halfway (to l-1 by e-mail, to 执行局 nowhere).
    let queued = remind(&db, &settings, "2024-04-20T09:00:00+08:00", false);
    assert_eq!(queued.len(), 4, "{queued:?}");
    let config = settings.path.display().to_string();
    let sent = huiyin(
        &db,
        &["--config", &config, "send", "--now", "2024-04-20T01:05:00Z"],
        "",
    );
    assert_eq!(
        sent.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    // The sink writes a message before it answers 250, so both are there when `send` is done.
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let stores = infra::store::open_stores(&db.url).await.expect("open");
    let rows = stores.outbox.list().await.expect("list");
    for (kind, to) in [
        ("halfway", "chen@court.example"),
        ("assigned", "wang@deputies.example"),
    ] {
        let row = rows
            .iter()
            .find(|row| row.entry.kind == kind && row.entry.channel == "email")
            .expect("queued");
        let message = messages
            .iter()
            .find(|message| message["rcpt_tos"] == serde_json::json!([to]))
            .unwrap_or_else(|| panic!("no message to {to}: {messages:?}"));
        assert_eq!(message["to"], to);
        assert_eq!(message["mail_from"], "huiyin@court.example");
        assert_eq!(message["from"], "回音 <huiyin@court.example>");
        assert_eq!(message["message_id"], format!("<{}@huiyin>", row.entry.id));
        assert_eq!(message["content_type"], "text/plain");
        assert_eq!(message["subject"], row.entry.subject.as_str(), "{kind}");
        assert!(row
            .entry
            .subject
            .starts_with("【回音】《关于加快执行案款发放的建议》"));
        let body = message["body"].as_str().expect("body");
        assert_eq!(body.trim_end(), row.entry.body, "{kind}");
        assert!(body.contains("关于加快执行案款发放的建议"), "{body}");
    }
}
