//! `huiyin.toml`: the rules that differ between localities (DESIGN.md §4). Every key is
//! optional; the defaults are DESIGN.md's. The keys are documented in `docs/configuration.md`.
//!
//! The file is `--config PATH` (or `HUIYIN_CONFIG`), else `huiyin.toml` in the working directory
//! if there is one, else none (all defaults).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aggregates::calendar::{official_notices, parse_notice, HolidayNotice};
use aggregates::deadline::{DeadlineRules, WorkingCalendar};
use aggregates::rules::Rules;
use anyhow::{bail, Context};
use jiff::tz::TimeZone;
use notify::email::SmtpChannel;
use notify::webhook::WebhookChannel;
use notify::{Channels, RetryPolicy};
use projections::notices::{Address, Audience, NoticeKind, NoticeRules};
use serde::Deserialize;

/// The file looked for in the working directory when no `--config` is given.
pub(crate) const CONFIG_FILE: &str = "huiyin.toml";
/// The longest working-day period a setting may name.
const WORKING_DAYS_MAX: u32 = 60;
/// The longest month period a setting may name.
const MONTHS_MAX: u32 = 24;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    time_zone: Option<String>,
    require_contact_before_answer: Option<bool>,
    #[serde(default)]
    deadlines: DeadlinesSection,
    #[serde(default)]
    calendar: CalendarSection,
    #[serde(default)]
    reminders: RemindersSection,
    #[serde(default)]
    sender: SenderSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SenderSection {
    attempts_max: Option<u32>,
    backoff_seconds: Option<u64>,
    backoff_seconds_max: Option<u64>,
    email: Option<EmailSection>,
    webhook: Option<WebhookSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailSection {
    smtp_host: String,
    #[serde(default = "smtp_port")]
    smtp_port: u16,
    from: String,
}

fn smtp_port() -> u16 {
    25
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSection {
    url: String,
    #[serde(default = "secret_env")]
    secret_env: String,
}

fn secret_env() -> String {
    "HUIYIN_WEBHOOK_SECRET".to_owned()
}

/// How `huiyin send` delivers (`[sender]`).
pub(crate) struct SenderSettings {
    /// Retries and back-off.
    pub(crate) policy: RetryPolicy,
    /// The configured channels.
    pub(crate) channels: Channels,
}

/// The sender settings of the same file [`load`] reads. The webhook secret comes from the
/// environment variable `[sender.webhook] secret_env` names, never from the file.
///
/// # Errors
/// As [`load`]; also when a channel's settings are unusable or the secret is not set.
pub(crate) fn load_sender(explicit: Option<&Path>) -> anyhow::Result<SenderSettings> {
    match read(explicit)? {
        Some((path, text)) => sender_from(&text, |name| std::env::var(name).ok())
            .with_context(|| format!("configuration {}", path.display())),
        None => sender_from("", |_| None),
    }
}

/// The sender settings of a configuration text; `secret(name)` reads an environment variable.
fn sender_from(
    text: &str,
    secret: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<SenderSettings> {
    let section = toml::from_str::<ConfigFile>(text)?.sender;
    let defaults = RetryPolicy::default();
    let attempts_max = section.attempts_max.unwrap_or(defaults.attempts_max);
    if !(1..=ATTEMPTS_MAX).contains(&attempts_max) {
        bail!("[sender] attempts_max = {attempts_max}: it must be 1 to {ATTEMPTS_MAX}");
    }
    let backoff_first = section
        .backoff_seconds
        .unwrap_or(defaults.backoff_first.as_secs());
    if !(1..=BACKOFF_SECONDS_MAX).contains(&backoff_first) {
        bail!("[sender] backoff_seconds = {backoff_first}: it must be 1 to {BACKOFF_SECONDS_MAX}");
    }
    let backoff_max = section
        .backoff_seconds_max
        .unwrap_or(defaults.backoff_max.as_secs().max(backoff_first));
    if !(backoff_first..=BACKOFF_SECONDS_MAX).contains(&backoff_max) {
        bail!(
            "[sender] backoff_seconds_max = {backoff_max}: it must be backoff_seconds \
             ({backoff_first}) to {BACKOFF_SECONDS_MAX}"
        );
    }
    let policy = RetryPolicy {
        attempts_max,
        backoff_first: Duration::from_secs(backoff_first),
        backoff_max: Duration::from_secs(backoff_max),
    };
    let mut channels = Channels::default();
    if let Some(email) = section.email {
        let channel = SmtpChannel::new(&email.smtp_host, email.smtp_port, &email.from)?;
        channels.email = Some(Arc::new(channel));
    }
    if let Some(webhook) = section.webhook {
        let Some(key) = secret(&webhook.secret_env).filter(|key| !key.is_empty()) else {
            bail!(
                "[sender.webhook] the secret variable {} is not set (or empty)",
                webhook.secret_env
            );
        };
        let channel = WebhookChannel::new(&webhook.url, key.into_bytes())?;
        channels.webhook = Some(Arc::new(channel));
    }
    Ok(SenderSettings { policy, channels })
}

/// The longest back-off a setting may name: a week.
const BACKOFF_SECONDS_MAX: u64 = 7 * 86_400;

/// The most attempts a notification may be given.
const ATTEMPTS_MAX: u32 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemindersSection {
    daily_at: Option<String>,
    due_soon_days: Option<i64>,
    overdue_repeat_days: Option<i64>,
    digest_working_days_only: Option<bool>,
    liaison_office: Option<String>,
    #[serde(default)]
    to: BTreeMap<String, Vec<Audience>>,
    #[serde(default)]
    addresses: BTreeMap<String, AddressesSection>,
    /// `[reminders.templates.NAME] PART = "text"`: message texts replacing the defaults.
    #[serde(default)]
    templates: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressesSection {
    email: Option<String>,
    webhook: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesSection {
    triage_working_days: Option<u32>,
    answer_months: Option<u32>,
    urgent_answer_months: Option<u32>,
    co_view_months: Option<u32>,
    rehandling_months: Option<u32>,
    extension_months_max: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarSection {
    #[serde(default = "yes")]
    official: bool,
    #[serde(default)]
    files: Vec<PathBuf>,
}

impl Default for CalendarSection {
    fn default() -> Self {
        CalendarSection {
            official: true,
            files: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The rules of the configuration file `explicit` names, else of `huiyin.toml` in the working
/// directory if it exists, else the defaults.
///
/// # Errors
/// When the named file is missing, or a file is not valid TOML of the documented keys, or a
/// value is out of range, or a calendar file is broken.
pub(crate) fn load(explicit: Option<&Path>) -> anyhow::Result<Rules> {
    let Some((path, text)) = read(explicit)? else {
        return Ok(Rules::default());
    };
    let base = path.parent().unwrap_or(Path::new("."));
    rules_from(&text, base).with_context(|| format!("configuration {}", path.display()))
}

/// The notice rules and recipients (`[reminders]`) of the same file [`load`] reads.
///
/// # Errors
/// As [`load`].
pub(crate) fn load_notice_rules(explicit: Option<&Path>) -> anyhow::Result<NoticeRules> {
    let Some((path, text)) = read(explicit)? else {
        return Ok(NoticeRules::default());
    };
    notice_rules_from(&text).with_context(|| format!("configuration {}", path.display()))
}

fn read(explicit: Option<&Path>) -> anyhow::Result<Option<(PathBuf, String)>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None if Path::new(CONFIG_FILE).is_file() => PathBuf::from(CONFIG_FILE),
        None => return Ok(None),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    Ok(Some((path, text)))
}

/// The longest reminder period a setting may name, in days.
const REMINDER_DAYS_MAX: i64 = 366;

/// The notice rules of a configuration text.
pub(crate) fn notice_rules_from(text: &str) -> anyhow::Result<NoticeRules> {
    let file: ConfigFile = toml::from_str(text)?;
    let section = file.reminders;
    let mut rules = NoticeRules::default();
    if let Some(name) = &file.time_zone {
        rules.time_zone = TimeZone::get(name)
            .with_context(|| format!("time_zone {name:?} is not an IANA time zone"))?;
    }
    if let Some(daily_at) = &section.daily_at {
        rules.daily_at = daily_at.parse().with_context(|| {
            format!("[reminders] daily_at = {daily_at:?}: not a time like 08:30")
        })?;
    }
    let days = |key: &str, value: Option<i64>, default: i64, min: i64| -> anyhow::Result<i64> {
        let value = value.unwrap_or(default);
        if !(min..=REMINDER_DAYS_MAX).contains(&value) {
            bail!("[reminders] {key} = {value}: it must be {min} to {REMINDER_DAYS_MAX}");
        }
        Ok(value)
    };
    rules.due_soon_days = days(
        "due_soon_days",
        section.due_soon_days,
        rules.due_soon_days,
        0,
    )?;
    rules.overdue_repeat_days = days(
        "overdue_repeat_days",
        section.overdue_repeat_days,
        rules.overdue_repeat_days,
        1,
    )?;
    if let Some(only) = section.digest_working_days_only {
        rules.digest_working_days_only = only;
    }
    if let Some(office) = section.liaison_office {
        rules.liaison_office = office;
    }
    for (kind, audiences) in section.to {
        let Some(kind) = NoticeKind::ALL
            .into_iter()
            .find(|known| known.as_str() == kind)
        else {
            bail!("[reminders.to] {kind}: not a notice kind");
        };
        // A digest is one leader's list of their own open items: sent to anyone else it would
        // be that leader's list under every leader's id (one notice id for them all).
        if kind == NoticeKind::Digest
            && audiences
                .iter()
                .any(|audience| *audience != Audience::Leader)
        {
            bail!(
                "[reminders.to] digest: only [\"leader\"] or [] (a digest is a leader's own list)"
            );
        }
        rules.audiences.insert(kind, audiences);
    }
    rules.addresses = addresses(section.addresses);
    for (name, parts) in section.templates {
        for (part, text) in parts {
            if let Err(error) = rules.templates.set(&name, &part, &text) {
                bail!("[reminders.templates.{name}] {part}: {error}");
            }
        }
    }
    Ok(rules)
}

fn addresses(section: BTreeMap<String, AddressesSection>) -> BTreeMap<String, Vec<Address>> {
    section
        .into_iter()
        .map(|(recipient, known)| {
            let channels = [("email", known.email), ("webhook", known.webhook)];
            let list = channels
                .into_iter()
                .filter_map(|(channel, address)| {
                    address.map(|address| Address {
                        channel: channel.to_owned(),
                        address,
                    })
                })
                .collect();
            (recipient, list)
        })
        .collect()
}

/// The rules of a configuration text; calendar files are found relative to `base`.
pub(crate) fn rules_from(text: &str, base: &Path) -> anyhow::Result<Rules> {
    let file: ConfigFile = toml::from_str(text)?;
    let defaults = DeadlineRules::default();
    let time_zone = match &file.time_zone {
        Some(name) => TimeZone::get(name)
            .with_context(|| format!("time_zone {name:?} is not an IANA time zone"))?,
        None => defaults.time_zone.clone(),
    };
    let section = &file.deadlines;
    let deadlines = DeadlineRules {
        time_zone,
        calendar: calendar(&file.calendar, base)?,
        triage_working_days: period(
            "triage_working_days",
            section.triage_working_days,
            defaults.triage_working_days,
            WORKING_DAYS_MAX,
        )?,
        answer_months: months(
            "answer_months",
            section.answer_months,
            defaults.answer_months,
        )?,
        urgent_answer_months: months(
            "urgent_answer_months",
            section.urgent_answer_months,
            defaults.urgent_answer_months,
        )?,
        co_view_months: months(
            "co_view_months",
            section.co_view_months,
            defaults.co_view_months,
        )?,
        rehandling_months: months(
            "rehandling_months",
            section.rehandling_months,
            defaults.rehandling_months,
        )?,
        extension_months_max: months(
            "extension_months_max",
            section.extension_months_max,
            defaults.extension_months_max,
        )?,
    };
    Ok(Rules {
        deadlines,
        require_contact_before_answer: file.require_contact_before_answer.unwrap_or(false),
    })
}

fn months(key: &str, value: Option<u32>, default: u32) -> anyhow::Result<u32> {
    period(key, value, default, MONTHS_MAX)
}

fn period(key: &str, value: Option<u32>, default: u32, max: u32) -> anyhow::Result<u32> {
    let value = value.unwrap_or(default);
    if !(1..=max).contains(&value) {
        bail!("[deadlines] {key} = {value}: it must be 1 to {max}");
    }
    Ok(value)
}

/// The embedded notices (unless `official = false`) and the listed files, as one calendar.
fn calendar(section: &CalendarSection, base: &Path) -> anyhow::Result<WorkingCalendar> {
    let mut notices: Vec<HolidayNotice> = if section.official {
        official_notices()?
    } else {
        Vec::new()
    };
    for file in &section.files {
        let path = base.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the calendar file {}", path.display()))?;
        let notice = parse_notice(&path.display().to_string(), &text)?;
        // A locality's own file for a year replaces the embedded one.
        notices.retain(|known| known.year != notice.year);
        notices.push(notice);
    }
    Ok(WorkingCalendar::from_notices(&notices)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_configuration_gives_the_design_defaults() {
        let rules = rules_from("", Path::new(".")).expect("valid");
        assert_eq!(rules.deadlines.triage_working_days, 7);
        assert_eq!(rules.deadlines.answer_months, 3);
        assert_eq!(rules.deadlines.extension_months_max, 6);
        assert!(!rules.require_contact_before_answer);
        assert_eq!(rules.deadlines.time_zone.iana_name(), Some("Asia/Shanghai"));
        assert!(rules.deadlines.calendar.covers_year(2024));
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
            time_zone = "Asia/Urumqi"
            require_contact_before_answer = true
            [deadlines]
            triage_working_days = 5
            answer_months = 2
            urgent_answer_months = 1
            co_view_months = 1
            rehandling_months = 2
            extension_months_max = 4
            [calendar]
            official = false
        "#;
        let rules = rules_from(text, Path::new(".")).expect("valid");
        assert!(rules.require_contact_before_answer);
        assert_eq!(rules.deadlines.time_zone.iana_name(), Some("Asia/Urumqi"));
        assert_eq!(rules.deadlines.triage_working_days, 5);
        assert_eq!(rules.deadlines.answer_months, 2);
        assert_eq!(rules.deadlines.rehandling_months, 2);
        assert_eq!(rules.deadlines.extension_months_max, 4);
        assert!(!rules.deadlines.calendar.covers_year(2024));
    }

    #[test]
    fn a_calendar_file_adds_a_year() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let notice = r#"
            year = 2027
            notice = "测试：2027年部分节假日安排"
            [[holiday]]
            name = "国庆节"
            first_day = "2027-10-01"
            last_day = "2027-10-07"
            make_up_working_days = ["2027-09-26"]
        "#;
        std::fs::write(dir.path().join("2027.toml"), notice).expect("write");
        let text = "[calendar]\nfiles = [\"2027.toml\"]\n";
        let rules = rules_from(text, dir.path()).expect("valid");
        assert!(rules.deadlines.calendar.covers_year(2027));
        assert!(rules.deadlines.calendar.covers_year(2024));
        let day = jiff::civil::date(2027, 10, 4);
        assert!(!rules.deadlines.calendar.is_working_day(day));
    }

    #[test]
    fn bad_configurations_are_refused() {
        for text in [
            "time_zone = \"Mars/Olympus\"",
            "[deadlines]\nanswer_months = 0",
            "[deadlines]\ntriage_working_days = 400",
            "unknown_key = 1",
            "[deadlines]\nanswer_weeks = 2",
            "[calendar]\nfiles = [\"missing.toml\"]",
            "require_contact_before_answer = \"yes\"",
            "[reminders]\ndaily_at = \"25:00\"",
            "[reminders]\ndue_soon_days = -1",
            "[reminders.to]\nweekly = [\"leader\"]",
            "[reminders.to]\nhalfway = [\"janitor\"]",
            "[reminders.addresses.l-1]\nfax = \"123\"",
            "[reminders.to]\ndigest = [\"liaison_office\"]",
            "[reminders.to]\ndigest = [\"leader\", \"deputies\"]",
            "[reminders]\nevent_window_days = 7",
            "[reminders.templates.assigned]\nbody = \"《{titel}》\"",
            "[reminders.templates.closed]\nbody = \"到期{due}\"",
            "[reminders.templates.weekly]\nbody = \"x\"",
            "[reminders.templates.digest_item]\nsubject = \"x\"",
        ] {
            assert!(
                rules_from(text, Path::new(".")).is_err() || notice_rules_from(text).is_err(),
                "accepted: {text}"
            );
        }
    }

    #[test]
    fn sender_settings_are_read_with_their_defaults() {
        let none = sender_from("", |_| None).expect("defaults");
        assert_eq!(none.policy, notify::RetryPolicy::default());
        assert!(none.channels.email.is_none() && none.channels.webhook.is_none());
        let text = r#"
            [sender]
            attempts_max = 3
            backoff_seconds = 30
            backoff_seconds_max = 600
            [sender.email]
            smtp_host = "127.0.0.1"
            from = "回音 <huiyin@court.example>"
            [sender.webhook]
            url = "http://127.0.0.1:9000/notify"
            secret_env = "GATEWAY_KEY"
        "#;
        let read = sender_from(text, |name| (name == "GATEWAY_KEY").then(|| "k".to_owned()))
            .expect("valid");
        assert_eq!(read.policy.attempts_max, 3);
        assert_eq!(read.policy.backoff_first, Duration::from_secs(30));
        assert_eq!(read.policy.backoff_max, Duration::from_secs(600));
        assert!(read.channels.email.is_some() && read.channels.webhook.is_some());
        // A first back-off longer than the default longest one raises the longest to it.
        let long = sender_from("[sender]\nbackoff_seconds = 86400", |_| None).expect("valid");
        assert_eq!(long.policy.backoff_max, Duration::from_secs(86_400));
    }

    #[test]
    fn bad_sender_settings_are_refused_naming_the_key() {
        let key = |_: &str| Some("k".to_owned());
        for (text, named) in [
            ("[sender]\nattempts_max = 0", "attempts_max = 0"),
            ("[sender]\nattempts_max = 51", "attempts_max = 51"),
            ("[sender]\nbackoff_seconds = 0", "backoff_seconds = 0"),
            (
                "[sender]\nbackoff_seconds = 700000",
                "backoff_seconds = 700000",
            ),
            (
                "[sender]\nbackoff_seconds = 600\nbackoff_seconds_max = 60",
                "backoff_seconds_max = 60",
            ),
            (
                "[sender]\nbackoff_seconds_max = 700000",
                "backoff_seconds_max = 700000",
            ),
            ("[sender]\nretries = 3", "retries"),
            (
                "[sender.email]\nsmtp_host = \"h\"\nfrom = \"not a mailbox\"",
                "not a mailbox",
            ),
        ] {
            let error = sender_from(text, key)
                .err()
                .map(|error| format!("{error:#}"));
            let error = error.unwrap_or_else(|| panic!("accepted: {text}"));
            assert!(error.contains(named), "{text}: {error}");
        }
    }

    #[test]
    fn a_webhook_without_its_secret_variable_is_refused() {
        let text =
            "[sender.webhook]\nurl = \"http://127.0.0.1:9000/\"\nsecret_env = \"GATEWAY_KEY\"";
        for secret in [None, Some(String::new())] {
            let error = sender_from(text, |_| secret.clone())
                .err()
                .map(|error| format!("{error:#}"));
            let error = error.expect("refused");
            assert!(
                error.contains("[sender.webhook] the secret variable GATEWAY_KEY"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_template_with_an_unknown_placeholder_is_refused_naming_it() {
        let text = "[reminders.templates.assigned]\nbody = \"您的《{titel}》已交办\"";
        let error = format!("{:#}", notice_rules_from(text).expect_err("refused"));
        assert!(
            error.contains("[reminders.templates.assigned] body"),
            "{error}"
        );
        assert!(error.contains("{titel}"), "{error}");
        assert!(error.contains("{title}"), "names the ones allowed: {error}");
    }

    #[test]
    fn a_template_override_replaces_the_default_text() {
        let text = "[reminders.templates.assigned]\nsubject = \"Item {item_id} assigned\"\n\
                    body = \"{title}: {lead_unit} / {leader}, round {round} {{ok}}\"";
        let rules = notice_rules_from(text).expect("valid");
        let subject = rules
            .templates
            .get("assigned", "subject")
            .render(|name| match name {
                "item_id" => "2024-S-001".to_owned(),
                _ => String::new(),
            });
        assert_eq!(subject, "Item 2024-S-001 assigned");
        // The others keep their defaults.
        let closed = rules
            .templates
            .get("closed", "subject")
            .render(|_| "T".to_owned());
        assert_eq!(closed, "【回音】《T》办理进展");
    }

    #[test]
    fn reminder_keys_are_read() {
        let text = r#"
            [reminders]
            daily_at = "09:15"
            due_soon_days = 5
            overdue_repeat_days = 3
            digest_working_days_only = false
            liaison_office = "office-rd"
            [reminders.to]
            overdue = ["leader", "lead_unit", "liaison_office"]
            digest = []
            [reminders.addresses.l-1]
            email = "chen@court.example"
            webhook = "13800000000"
        "#;
        let rules = notice_rules_from(text).expect("valid");
        assert_eq!(rules.daily_at, jiff::civil::time(9, 15, 0, 0));
        assert_eq!(rules.due_soon_days, 5);
        assert_eq!(rules.overdue_repeat_days, 3);
        assert!(!rules.digest_working_days_only);
        assert_eq!(rules.liaison_office, "office-rd");
        assert_eq!(rules.audiences[&NoticeKind::Overdue].len(), 3);
        assert!(rules.audiences[&NoticeKind::Digest].is_empty());
        assert_eq!(rules.audiences[&NoticeKind::Halfway].len(), 2);
        assert_eq!(rules.addresses["l-1"].len(), 2);
    }
}
