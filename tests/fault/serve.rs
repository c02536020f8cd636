//! `huiyin serve` as a child process the fault tests can start, kill with SIGKILL and start
//! again on the same database. Every wait is on a condition (the address line, the process
//! exiting) with a bound.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A bound on waits that should end at once (a server printing its address, a killed process
/// being reaped); reaching it fails the test instead of hanging it.
pub const START_BOUND: Duration = Duration::from_secs(60);

/// One `huiyin serve` process on a database; killed (SIGKILL) when dropped.
pub struct ServeProcess {
    child: Child,
    /// `host:port` it listens on.
    pub address: String,
}

impl ServeProcess {
    /// Starts `huiyin --db URL serve --addr 127.0.0.1:0 EXTRA…`, its log appended to
    /// `log_path`, and waits (bounded) for the line naming its address.
    ///
    /// # Panics
    /// When the process cannot start or prints no address within [`START_BOUND`].
    pub fn start(db_url: &str, extra: &[&str], log_path: &Path) -> ServeProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .expect("server log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_huiyin"))
            .arg("--db")
            .arg(db_url)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            // Several servers and the tests beside them share the server's max_connections.
            .env("HUIYIN_DB_CONNECTIONS", "6")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start huiyin serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(address) = line.strip_prefix("huiyin: listening on http://") {
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        let address = match receiver.recv_timeout(START_BOUND) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "huiyin serve printed no address within {START_BOUND:?}; its log:\n{}",
                    log_tail(log_path)
                );
            }
        };
        ServeProcess { child, address }
    }

    /// Kills the process with SIGKILL (no chance to finish anything) and reaps it.
    pub fn kill_9(mut self) {
        self.kill_and_reap();
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit; true when it exited with success.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.is_ok_and(|status| status.success()),
            "kill -TERM {pid}"
        );
        let deadline = std::time::Instant::now() + START_BOUND;
        loop {
            match self.child.try_wait().expect("wait for huiyin serve") {
                Some(status) => return status.success(),
                None if std::time::Instant::now() < deadline => {
                    // The polling interval of a bounded wait for the process to exit.
                    std::thread::sleep(Duration::from_millis(20));
                }
                None => panic!("huiyin serve did not stop on SIGTERM within {START_BOUND:?}"),
            }
        }
    }

    fn kill_and_reap(&mut self) {
        // SIGKILL; `Child::kill` sends exactly that on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// The last lines of a server's log, for a failure message.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
