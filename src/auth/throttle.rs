//! Slowing down password guessing: after a few failed logins for one account, or from one client
//! address, the next attempt must wait, twice as long after each further failure, up to a cap.
//!
//! The throttle keeps its counts in memory, per server process, and reads no clock: every call
//! is given "now", so tests drive it with a fixed clock and never sleep. Each process throttles
//! on its own; several processes behind one address multiply the attempts an attacker gets by
//! their number, which the cap keeps small.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Each table of failures holds at most this many keys; past it the stalest are forgotten.
pub const FAILURE_KEYS_MAX: usize = 10_000;

/// How failures turn into waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// This many failures in a row cost nothing.
    pub free_failures: u32,
    /// The wait after the first failure that costs something; each further failure doubles it.
    pub first_wait: Duration,
    /// No wait is longer than this.
    pub wait_max: Duration,
    /// Failures older than this (counted from the last one) are forgotten.
    pub forget_after: Duration,
}

impl Backoff {
    /// Per account: three free tries, then 1 s, 2 s, 4 s … up to 15 minutes.
    pub const ACCOUNT: Backoff = Backoff {
        free_failures: 3,
        first_wait: Duration::from_secs(1),
        wait_max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    /// Per client address: a whole office may share one address, so more free tries.
    pub const ADDRESS: Backoff = Backoff {
        free_failures: 20,
        first_wait: Duration::from_secs(1),
        wait_max: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    /// The wait owed after `failures` failures in a row.
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(31);
        self.first_wait
            .saturating_mul(1u32 << doublings)
            .min(self.wait_max)
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Timestamp,
}

fn plus(at: Timestamp, wait: Duration) -> Timestamp {
    SignedDuration::try_from(wait)
        .ok()
        .and_then(|wait| at.checked_add(wait).ok())
        .unwrap_or(Timestamp::MAX)
}

/// One table of failures, keyed by account or by address.
#[derive(Debug)]
struct Table<K> {
    backoff: Backoff,
    failures: Mutex<HashMap<K, Failures>>,
}

impl<K: Eq + Hash + Clone> Table<K> {
    fn new(backoff: Backoff) -> Self {
        Table {
            backoff,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        // A panic while holding the lock leaves only counts behind; they stay usable.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long `key` must still wait at `now`; zero when it may try.
    fn wait_left(&self, key: &K, now: Timestamp) -> Duration {
        let Some(failures) = self.lock().get(key).copied() else {
            return Duration::ZERO;
        };
        let free_at = plus(failures.last, self.backoff.wait_after(failures.count));
        if now >= free_at {
            return Duration::ZERO;
        }
        let left = now.duration_until(free_at);
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    }

    fn fail(&self, key: K, now: Timestamp) {
        let mut table = self.lock();
        if table.len() >= FAILURE_KEYS_MAX && !table.contains_key(&key) {
            forget_stalest(&mut table, now, self.backoff.forget_after);
        }
        let entry = table.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now >= plus(entry.last, self.backoff.forget_after) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// Drops forgotten entries; if the table is still full, drops the older half.
fn forget_stalest<K: Eq + Hash + Clone>(
    table: &mut HashMap<K, Failures>,
    now: Timestamp,
    forget_after: Duration,
) {
    table.retain(|_, failures| now < plus(failures.last, forget_after));
    if table.len() >= FAILURE_KEYS_MAX {
        let mut lasts: Vec<Timestamp> = table.values().map(|failures| failures.last).collect();
        lasts.sort_unstable();
        let median = lasts[lasts.len() / 2];
        table.retain(|_, failures| failures.last > median);
    }
}

/// Failed logins per account and per client address.
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Table<String>,
    addresses: Table<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(Backoff::ACCOUNT, Backoff::ADDRESS)
    }
}

impl LoginThrottle {
    /// A throttle with these rules per account and per address.
    pub fn new(account: Backoff, address: Backoff) -> Self {
        LoginThrottle {
            accounts: Table::new(account),
            addresses: Table::new(address),
        }
    }

    /// How long a login for `person_id` from `address` must still wait at `now`: zero when it
    /// may be tried; otherwise the longer of the account's and the address's waits.
    pub fn wait_left(&self, person_id: &str, address: Option<IpAddr>, now: Timestamp) -> Duration {
        let account = self.accounts.wait_left(&person_id.to_owned(), now);
        let address = address.map_or(Duration::ZERO, |address| {
            self.addresses.wait_left(&address, now)
        });
        account.max(address)
    }

    /// Counts a failed login (a wrong password, or an unknown person).
    pub fn failed(&self, person_id: &str, address: Option<IpAddr>, now: Timestamp) {
        self.accounts.fail(person_id.to_owned(), now);
        if let Some(address) = address {
            self.addresses.fail(address, now);
        }
    }

    /// Forgets the account's failures after a successful login. The address keeps its count, so
    /// one good account does not reset guessing at the others from the same address.
    pub fn succeeded(&self, person_id: &str) {
        self.accounts.clear(&person_id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).expect("a valid time")
    }

    #[test]
    fn waits_double_after_the_free_failures_up_to_the_cap() {
        let backoff = Backoff::ACCOUNT;
        let waits: Vec<u64> = (0..8)
            .map(|failures| backoff.wait_after(failures).as_secs())
            .collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(backoff.wait_after(40), backoff.wait_max);
        assert_eq!(backoff.wait_after(u32::MAX), backoff.wait_max);
    }

    #[test]
    fn an_account_waits_after_failures_and_a_success_clears_it() {
        let throttle = LoginThrottle::default();
        for second in 0..3 {
            assert_eq!(throttle.wait_left("d-1", None, at(second)), Duration::ZERO);
            throttle.failed("d-1", None, at(second));
        }
        // Three failures, the last at second 2: one second to wait from there.
        assert_eq!(
            throttle.wait_left("d-1", None, at(2)),
            Duration::from_secs(1)
        );
        assert_eq!(throttle.wait_left("d-1", None, at(3)), Duration::ZERO);
        assert_eq!(throttle.wait_left("d-2", None, at(2)), Duration::ZERO);
        throttle.failed("d-1", None, at(3));
        assert_eq!(
            throttle.wait_left("d-1", None, at(3)),
            Duration::from_secs(2)
        );
        throttle.succeeded("d-1");
        assert_eq!(throttle.wait_left("d-1", None, at(3)), Duration::ZERO);
    }

    #[test]
    fn an_address_is_throttled_across_accounts_and_forgets_in_time() {
        let throttle = LoginThrottle::default();
        let address: IpAddr = "192.0.2.7".parse().expect("address");
        for n in 0..Backoff::ADDRESS.free_failures {
            throttle.failed(&format!("p-{n}"), Some(address), at(0));
        }
        assert_eq!(
            throttle.wait_left("someone-else", Some(address), at(0)),
            Duration::from_secs(1)
        );
        assert_eq!(
            throttle.wait_left("someone-else", None, at(0)),
            Duration::ZERO
        );
        let later = at(Backoff::ADDRESS.forget_after.as_secs() as i64);
        throttle.failed("p-0", Some(address), later);
        assert_eq!(
            throttle.wait_left("x", Some(address), later),
            Duration::ZERO
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = LoginThrottle::default();
        for n in 0..(FAILURE_KEYS_MAX as i64 + 10) {
            throttle.failed(&format!("p-{n}"), None, at(n));
        }
        assert!(throttle.accounts.lock().len() <= FAILURE_KEYS_MAX);
        assert!(throttle.accounts.lock().contains_key("p-10009"));
    }
}
