//! The item page's forms: which a role is shown, posting them, refusals and CSRF.

use libtest_mimic::Trial;

pub fn trials() -> Vec<Trial> {
    Vec::new()
}
