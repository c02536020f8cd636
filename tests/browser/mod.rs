//! The web pages in a real headless Chromium, driven over WebDriver (fantoccini) through Debian's
//! `chromedriver`, against `huiyin serve` started as a process on a fresh SQLite ledger whose
//! people and passwords are set up with the CLI.
//!
//! Without `chromium` and `chromedriver` on the PATH these tests are skipped with a loud banner
//! (shown as 'ignored'), unless `HUIYIN_REQUIRE_BROWSER=1` (which `.ci/run` sets): then they fail.
//! Every process a test starts is killed when its guard drops, also when the test fails; every
//! wait is on a condition with a bound.
//!
//! Screenshots go to `target/test-output/browser/` (the board at the end of the flow is
//! `board.png`), beside the server's log of each test.

mod flow;

use std::fs::File;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use libtest_mimic::{Failed, Trial};
use serde_json::{json, Value};

use crate::support::{block_on, fresh, huiyin, Db, Fresh};

pub fn trials() -> Vec<Trial> {
    flow::trials()
}

/// A bound on every wait; reaching it fails the test instead of hanging it.
const WAIT_BOUND: Duration = Duration::from_secs(60);

/// How long a bounded wait pauses between two looks at its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Chromium's switches. Without the background-networking ones Chromium keeps trying to reach
/// Google's services, which on a closed network is a flood of refused connections.
const CHROMIUM_SWITCHES: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

/// The two programs the tests need.
#[derive(Debug, Clone)]
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|folder| folder.join(program))
        .find(|candidate| candidate.is_file())
}

/// Chromium and ChromeDriver, if both are on the PATH; looked up once per run.
pub fn tools() -> Result<Tools, String> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let chromium = on_path("chromium").ok_or("no `chromium` on the PATH")?;
            let chromedriver = on_path("chromedriver").ok_or("no `chromedriver` on the PATH")?;
            Ok(Tools {
                chromium,
                chromedriver,
            })
        })
        .clone()
}

fn browser_required() -> bool {
    std::env::var("HUIYIN_REQUIRE_BROWSER").is_ok_and(|value| value == "1")
}

/// Prints the banner that says the browser tests were skipped, if they were.
pub fn announce_skip() {
    if let Err(reason) = tools() {
        if !browser_required() {
            eprintln!();
            eprintln!("##########################################################################");
            eprintln!("# WARNING: browser tests SKIPPED (shown as 'ignored' below).");
            eprintln!("# {reason}.");
            eprintln!("# Install Debian's `chromium` and `chromium-driver` to run them; .ci/run");
            eprintln!("# does, and sets HUIYIN_REQUIRE_BROWSER=1 so that they cannot be skipped.");
            eprintln!("##########################################################################");
            eprintln!();
        }
    }
}

/// One browser test: skipped (loudly) without the tools, failed without them when required.
pub fn browser_trial<F, Fut>(name: &str, test: F) -> Trial
where
    F: FnOnce(Tools) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let skip = !browser_required() && tools().is_err();
    Trial::test(format!("browser::sqlite::{name}"), move || {
        let tools = tools().map_err(|reason| {
            Failed::from(format!(
                "Chromium and ChromeDriver are required (HUIYIN_REQUIRE_BROWSER=1): {reason}"
            ))
        })?;
        block_on(test(tools));
        Ok(())
    })
    .with_ignored_flag(skip)
}

/// Where screenshots and logs go: `target/test-output/browser/`, made if missing.
pub fn output_folder() -> PathBuf {
    // Integration tests get `target/tmp`; its parent is the target folder, wherever it is.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .to_path_buf();
    let folder = target.join("test-output").join("browser");
    std::fs::create_dir_all(&folder).expect("make target/test-output/browser");
    folder
}

/// Polls `condition` until it holds, failing after `WAIT_BOUND` with `what` in the message.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !condition().await {
        assert!(
            started.elapsed() < WAIT_BOUND,
            "waited {WAIT_BOUND:?} for {what}"
        );
        // The interval of a bounded poll, not a guess at how long the browser takes.
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Kills a process group and reaps its leader when dropped.
struct ProcessGroup {
    child: Child,
    what: &'static str,
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // The leader was started with `process_group(0)`, so its id is the group's id and the
        // group holds what it started (ChromeDriver's Chromium and Chromium's helpers).
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        if !killed.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        if let Err(error) = self.child.wait() {
            eprintln!("browser: could not reap {}: {error}", self.what);
        }
    }
}

/// Starts `command` as the leader of a new process group, guarded.
fn spawn_group(command: &mut Command, what: &'static str) -> ProcessGroup {
    let child = command
        .process_group(0)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("start {what}: {error}"));
    ProcessGroup { child, what }
}

/// Reads `stdout` on a thread of its own until EOF and sends the first line that `pick` maps
/// to something; the reader keeps draining so the process never blocks on a full pipe.
fn first_line<T: Send + 'static>(
    stdout: impl Read + Send + 'static,
    pick: fn(&str) -> Option<T>,
) -> mpsc::Receiver<T> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if !sent {
                if let Some(found) = pick(&line) {
                    sent = sender.send(found).is_ok();
                }
            }
        }
    });
    receiver
}

/// A running `chromedriver`, listening on loopback on a port the system chose.
pub struct ChromeDriver {
    url: String,
    _group: ProcessGroup,
}

fn chromedriver_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("ChromeDriver was started successfully on port ")?;
    rest.trim_end_matches('.').parse().ok()
}

impl ChromeDriver {
    /// Starts ChromeDriver on a free port (`--port=0`; it prints the one it got) and waits,
    /// bounded, until its `/status` says it is ready.
    pub async fn start(tools: &Tools) -> ChromeDriver {
        let mut group = spawn_group(
            Command::new(&tools.chromedriver)
                .arg("--port=0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
            "chromedriver",
        );
        let stdout = group.child.stdout.take().expect("chromedriver's stdout");
        let port = first_line(stdout, chromedriver_port)
            .recv_timeout(WAIT_BOUND)
            .expect("chromedriver prints the port it listens on");
        let driver = ChromeDriver {
            url: format!("http://127.0.0.1:{port}"),
            _group: group,
        };
        let address = format!("127.0.0.1:{port}");
        wait_until("chromedriver's /status to say ready", || {
            let ready = webdriver_ready(&address);
            async move { ready }
        })
        .await;
        driver
    }
}

/// Whether a WebDriver server answers `GET /status` with `"ready": true`.
fn webdriver_ready(address: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let request = format!("GET /status HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.set_read_timeout(Some(WAIT_BOUND)).is_err()
        || stream.write_all(request.as_bytes()).is_err()
    {
        return false;
    }
    read_http_body(&mut stream)
        .and_then(|body| serde_json::from_slice::<Value>(&body).ok())
        .is_some_and(|status| status["value"]["ready"] == true)
}

/// Reads one HTTP/1.1 answer's body by its Content-Length: ChromeDriver keeps the connection
/// open even when asked to close it, so reading to the end would wait for the timeout.
fn read_http_body(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))?
                .trim()
                .parse()
                .ok()?;
            let body_start = end + 4;
            if received.len() >= body_start + length {
                return Some(received[body_start..body_start + length].to_vec());
            }
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        received.extend_from_slice(&chunk[..read]);
    }
}

/// A running `huiyin serve` on a free port of loopback.
pub struct Server {
    pub base_url: String,
    _group: ProcessGroup,
}

fn listening_address(line: &str) -> Option<String> {
    line.strip_prefix("huiyin: listening on ")
        .map(|url| url.trim_end_matches('/').to_owned())
}

impl Server {
    /// Starts `huiyin serve --addr 127.0.0.1:0` on `db`, its log in `log`, and waits (bounded)
    /// for the line naming its address.
    pub fn start(db: &Fresh, log: &Path) -> Server {
        let log = File::create(log).expect("the server's log file");
        let mut group = spawn_group(
            Command::new(env!("CARGO_BIN_EXE_huiyin"))
                .arg("--db")
                .arg(&db.url)
                .args(["serve", "--addr", "127.0.0.1:0"])
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log)),
            "huiyin serve",
        );
        let stdout = group.child.stdout.take().expect("the server's stdout");
        let base_url = first_line(stdout, listening_address)
            .recv_timeout(WAIT_BOUND)
            .expect("huiyin serve prints its address");
        Server {
            base_url,
            _group: group,
        }
    }
}

/// Runs one command line of `huiyin` and requires success.
pub fn cli_ok(db: &Fresh, args: &[&str], stdin: &str) -> String {
    let output = huiyin(db, args, stdin);
    assert!(
        output.status.success(),
        "huiyin {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Someone who uses the pages: person id, role, display name and password.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub id: &'static str,
    pub role: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
}

impl Person {
    /// The password `setup_people` gives this person.
    pub fn password(&self) -> String {
        format!("{} 的口令 / password", self.id)
    }
}

/// Registers each person in the ledger, grants their role (both as the administrator, through
/// `huiyin exec`) and sets their password (`huiyin password set`, the password on stdin).
pub fn setup_people(db: &Fresh, people: &[Person]) {
    let mut lines = String::new();
    for person in people {
        let register = json!({"command_id": format!("register-{}", person.id),
            "type": "RegisterPerson", "at": "2024-01-02T09:00:00+08:00",
            "actor": "admin-01", "role": "admin",
            "data": {"person_id": person.id, "name": person.name, "kind": person.kind}});
        let grant = json!({"command_id": format!("grant-{}", person.id),
            "type": "GrantAccess", "at": "2024-01-02T09:05:00+08:00",
            "actor": "admin-01", "role": "admin",
            "data": {"person_id": person.id, "role": person.role}});
        lines.push_str(&format!("{register}\n{grant}\n"));
    }
    cli_ok(db, &["exec", "-"], &lines);
    for person in people {
        let password = format!("{}\n", person.password());
        cli_ok(
            db,
            &[
                "password",
                "set",
                "--person",
                person.id,
                "--role",
                person.role,
            ],
            &password,
        );
    }
}

/// A fresh SQLite ledger, `huiyin serve` on it, ChromeDriver and a Chromium session with an
/// empty profile of its own. Dropped in field order: the browser session, then ChromeDriver's
/// process group (with Chromium), then the server, then the profile and the ledger's folders.
pub struct Stage {
    pub browser: Browser,
    _driver: ChromeDriver,
    _server: Server,
    _profile: tempfile::TempDir,
    pub db: Fresh,
}

impl Stage {
    /// Sets up `people` on a fresh ledger, runs `prepare` on it (more commands through the
    /// CLI), then starts the server and the browser. `name` prefixes the files it writes.
    pub async fn start(tools: &Tools, name: &str, people: &[Person], prepare: fn(&Fresh)) -> Stage {
        let db = fresh(Db::Sqlite).await;
        setup_people(&db, people);
        prepare(&db);
        let server = Server::start(&db, &output_folder().join(format!("{name}-serve.log")));
        let driver = ChromeDriver::start(tools).await;
        let profile = tempfile::tempdir().expect("an empty Chromium profile");
        let client = connect(tools, &driver, profile.path()).await;
        Stage {
            browser: Browser {
                client,
                base_url: server.base_url.clone(),
            },
            _driver: driver,
            _server: server,
            _profile: profile,
            db,
        }
    }
}

async fn connect(tools: &Tools, driver: &ChromeDriver, profile: &Path) -> Client {
    let mut switches: Vec<String> = CHROMIUM_SWITCHES.iter().map(|s| (*s).to_owned()).collect();
    switches.push(format!("--user-data-dir={}", profile.display()));
    let options = json!({"binary": tools.chromium, "args": switches});
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// What a form submission ended with: the `#flash` paragraph's class, code and text.
#[derive(Debug, Clone)]
pub struct Flash {
    pub class: String,
    pub code: Option<String>,
    pub text: String,
}

/// The browser, at the server's address.
pub struct Browser {
    client: Client,
    base_url: String,
}

fn is_stale(error: &CmdError) -> bool {
    matches!(error, CmdError::Standard(wd) if wd.error == ErrorStatus::StaleElementReference)
}

impl Browser {
    /// Opens `path` on the server and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|error| panic!("open {url}: {error}"));
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The path the browser is on, without the query.
    pub async fn page_path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        url.path().to_owned()
    }

    /// The element `css` selects; fails the test, naming the page, if there is none.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => {
                let path = self.path().await;
                let source = self.client.source().await.unwrap_or_default();
                panic!("no `{css}` on {path}: {error}\n{source}")
            }
        }
    }

    /// How many elements `css` selects.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|found| found.len())
            .expect("find_all")
    }

    /// An attribute of the element `css` selects; fails if either is missing.
    pub async fn attribute(&self, css: &str, name: &str) -> String {
        let element = self.find(css).await;
        match element.attr(name).await.expect("attribute") {
            Some(value) => value,
            None => panic!(
                "`{css}` has no attribute {name} on {}:\n{}",
                self.path().await,
                self.source().await
            ),
        }
    }

    /// The page's source as the browser has it now.
    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// The document's `lang`.
    pub async fn language(&self) -> String {
        self.attribute("html", "lang").await
    }

    /// Clicks `css` and waits (bounded) until the page it was on has been replaced.
    pub async fn click_and_wait(&self, css: &str) {
        let page = self.find("html").await;
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("click `{css}`: {error}"));
        wait_until(&format!("a new page after clicking `{css}`"), || {
            let page = page.clone();
            async move {
                match page.tag_name().await {
                    Ok(_) => false,
                    Err(error) => is_stale(&error),
                }
            }
        })
        .await;
        self.wait_for("body").await;
    }

    /// Waits (bounded) until `css` selects something on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT_BOUND)
            .every(POLL_INTERVAL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!("no `{css}` on {} in time: {error}", self.path().await),
        }
    }

    /// Logs in on `/login` and waits for the page it leads to (which has the logout form).
    pub async fn login(&self, person: &Person) {
        self.goto("/login").await;
        let form = self.find("form#login").await;
        fill(&form, "person_id", person.id).await;
        fill(&form, "password", &person.password()).await;
        fill(&form, "role", person.role).await;
        self.click_and_wait("#login-submit").await;
        if self.count("form#logout").await == 0 {
            panic!(
                "{} ({}) is not logged in on {}:\n{}",
                person.id,
                person.role,
                self.path().await,
                self.source().await
            );
        }
    }

    /// Logs out with the button on the page, then checks that the board asks for a login again.
    pub async fn logout(&self) {
        self.click_and_wait("#logout-submit").await;
        self.goto("/").await;
        self.wait_for("form#login").await;
        assert_eq!(self.count("form#logout").await, 0, "still logged in");
    }

    /// Fills `form-COMMAND` on the current page with `fields` (by input name), submits it with
    /// `submit-COMMAND` and returns the flash message of the page it leads to.
    pub async fn submit(&self, command: &str, fields: &[(&str, &str)]) -> Flash {
        let form = self.find(&format!("form#form-{command}")).await;
        for (name, value) in fields {
            fill(&form, name, value).await;
        }
        self.click_and_wait(&format!("#submit-{command}")).await;
        let flash = self.wait_for("#flash").await;
        Flash {
            class: flash.attr("class").await.ok().flatten().unwrap_or_default(),
            code: flash.attr("data-code").await.ok().flatten(),
            text: flash.text().await.unwrap_or_default(),
        }
    }

    /// `GET path` from inside the page (same origin, with its cookies): the HTTP status.
    pub async fn fetch_status(&self, path: &str) -> u16 {
        let script = "const [path, done] = arguments; \
            fetch(path, {credentials: 'same-origin', redirect: 'manual'}) \
            .then(answer => done(answer.status), error => done(String(error)));";
        let status = self
            .client
            .execute_async(script, vec![json!(path)])
            .await
            .expect("fetch from the page");
        let status = status
            .as_u64()
            .unwrap_or_else(|| panic!("fetch {path}: {status}"));
        u16::try_from(status).expect("an HTTP status")
    }

    /// Saves a PNG of the window as `target/test-output/browser/NAME.png`, prints its path and
    /// returns it.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let path = output_folder().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        eprintln!("browser: screenshot {}", path.display());
        path
    }

    /// Ends the WebDriver session (Chromium quits); the guards would kill it otherwise.
    pub async fn close(self) {
        self.client.close().await.expect("end the browser session");
    }
}

/// Sets the form field named `name` to `value`, whatever kind of control it is: a `select`
/// picks the option with that value, radio buttons the one with that value, a checkbox is
/// checked for `"true"`, anything else is cleared and typed into.
async fn fill(form: &Element, name: &str, value: &str) {
    let css = format!("[name=\"{name}\"]");
    let field = form
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|error| panic!("the form has no field `{name}`: {error}"));
    let tag = field.tag_name().await.expect("tag name");
    let kind = field.attr("type").await.expect("type").unwrap_or_default();
    match (tag.as_str(), kind.as_str()) {
        ("select", _) => field
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("select {value} in `{name}`: {error}")),
        (_, "radio") => {
            let css = format!("[name=\"{name}\"][value=\"{value}\"]");
            let choice = form
                .find(Locator::Css(&css))
                .await
                .unwrap_or_else(|error| panic!("no choice {value} for `{name}`: {error}"));
            choice.click().await.expect("choose");
        }
        (_, "checkbox") => {
            let checked = field.is_selected().await.expect("checked");
            if checked != (value == "true") {
                field.click().await.expect("toggle");
            }
        }
        _ => {
            field.clear().await.expect("clear");
            field
                .send_keys(value)
                .await
                .unwrap_or_else(|error| panic!("type into `{name}`: {error}"));
        }
    }
}
