//! A private PostgreSQL cluster of the test's own (initdb and pg_ctl in a temporary folder, on a
//! free port), so a test can stop the database server itself — `pg_ctl stop -m immediate`, a
//! crash without a clean shutdown, recovered from its WAL at the next start — while other tests
//! keep using the shared server. As root, the cluster's programs run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL cluster in a temporary folder; stopped when dropped.
pub struct PrivateCluster {
    bin: PathBuf,
    folder: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl PrivateCluster {
    /// Makes and starts a cluster.
    ///
    /// # Panics
    /// When PostgreSQL's programs are not installed under `/usr/lib/postgresql/*/bin`, or a
    /// step fails.
    pub fn start() -> PrivateCluster {
        let bin = postgres_bin();
        let folder = tempfile::tempdir().expect("cluster folder");
        if running_as_root() {
            chown_to_postgres(folder.path());
        }
        let port = free_port();
        let cluster = PrivateCluster { bin, folder, port };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.pg_ctl_start();
        cluster
    }

    /// Its URL, for the database `postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections (`pg_ctl -w`, bounded by its
    /// own timeout).
    pub fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=on",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash would: no checkpoint, no goodbye to clients.
    pub fn pg_ctl_stop_immediate(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn data(&self) -> String {
        self.folder.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .output()
            .expect("run a PostgreSQL program");
        assert!(
            output.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("PostgreSQL's initdb and pg_ctl under /usr/lib/postgresql/*/bin")
}

fn running_as_root() -> bool {
    // The effective user id, without a libc dependency: `id -u` is everywhere PostgreSQL is.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

fn chown_to_postgres(path: &Path) {
    let status = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success(), "chown postgres {}", path.display());
}

/// A port nothing listens on now (the kernel's choice for port 0).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("address").port()
}
