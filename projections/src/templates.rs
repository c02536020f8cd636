//! The message texts of notices: templates with named placeholders, `{title}`, strictly
//! checked. The defaults (Chinese) are `projections/templates/zh.toml`, embedded; `huiyin.toml`
//! may replace any of them ([`Templates::set`]).
//!
//! **Invariant:** a template is checked when it is read: every placeholder must be one its
//! message has ([`placeholders`]), and every brace must be a placeholder's or doubled (`{{`,
//! `}}`). So rendering never fails and never leaves a placeholder in a message.

use std::collections::BTreeMap;

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// No template has this name, or this part.
    #[error("{name}.{part}: no such template (templates: {known})")]
    Unknown {
        /// The template's name (`assigned`, `digest_item`…).
        name: String,
        /// Its part (`subject`, `body`, `due`, `overdue`).
        part: String,
        /// The names and parts there are.
        known: String,
    },
    /// A placeholder this template may not use.
    #[error("{name}.{part}: unknown placeholder {{{placeholder}}}; this one may use {allowed}")]
    Placeholder {
        /// The template's name.
        name: String,
        /// Its part.
        part: String,
        /// The placeholder.
        placeholder: String,
        /// The ones it may use.
        allowed: String,
    },
    /// A brace that opens no placeholder or closes none.
    #[error("{name}.{part}: a lone '{{' or '}}' (write {{{{ or }}}} for a brace)")]
    Brace {
        /// The template's name.
        name: String,
        /// Its part.
        part: String,
    },
}

/// The placeholders of a status notice (assigned, answered, re-handling, closed).
const STATUS: &[&str] = &["title", "item_id", "leader", "lead_unit", "round"];
/// The placeholders of a halfway or due-soon reminder.
const REMINDER: &[&str] = &[
    "title",
    "item_id",
    "leader",
    "lead_unit",
    "round",
    "due",
    "days_left",
];
/// The placeholders of an overdue notice.
const OVERDUE: &[&str] = &[
    "title",
    "item_id",
    "leader",
    "lead_unit",
    "round",
    "due",
    "days_overdue",
];

/// Every template: name, parts, and the placeholders it may use.
const SPECS: &[(&str, &[&str], &[&str])] = &[
    ("assigned", &["subject", "body"], STATUS),
    ("answered", &["subject", "body"], STATUS),
    ("rehandling", &["subject", "body"], STATUS),
    ("closed", &["subject", "body"], STATUS),
    ("halfway", &["subject", "body"], REMINDER),
    ("due_soon", &["subject", "body"], REMINDER),
    ("overdue", &["subject", "body"], OVERDUE),
    ("digest", &["subject", "body"], &["day", "count", "items"]),
    (
        "digest_item",
        &["due"],
        &["item_id", "title", "due", "days_left"],
    ),
    (
        "digest_item",
        &["overdue"],
        &["item_id", "title", "due", "days_overdue"],
    ),
];

/// The placeholders template `name`'s `part` may use, or `None` when there is no such template.
pub fn placeholders(name: &str, part: &str) -> Option<&'static [&'static str]> {
    spec(name, part).map(|(_, allowed)| allowed)
}

/// The template's key as listed, and its placeholders.
fn spec(name: &str, part: &str) -> Option<((&'static str, &'static str), &'static [&'static str])> {
    SPECS.iter().find_map(|(known, parts, allowed)| {
        let known_part = parts.iter().find(|known_part| **known_part == part)?;
        (*known == name).then_some(((*known, *known_part), *allowed))
    })
}

/// The embedded defaults.
const CHINESE: &str = include_str!("../templates/zh.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(&'static str),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// Checks `text` as template `name`'s `part`.
    ///
    /// # Errors
    /// [`TemplateError`] for an unknown template, placeholder, or a lone brace.
    pub fn parse(name: &str, part: &str, text: &str) -> Result<Template, TemplateError> {
        let Some(allowed) = placeholders(name, part) else {
            let known: Vec<String> = SPECS
                .iter()
                .flat_map(|(name, parts, _)| parts.iter().map(move |part| format!("{name}.{part}")))
                .collect();
            return Err(TemplateError::Unknown {
                name: name.to_owned(),
                part: part.to_owned(),
                known: known.join(", "),
            });
        };
        let brace = || TemplateError::Brace {
            name: name.to_owned(),
            part: part.to_owned(),
        };
        let mut segments = Vec::new();
        let mut text_run = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(['{', '}']) {
            text_run.push_str(&rest[..at]);
            let tail = &rest[at..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                text_run.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(brace());
            }
            let close = tail.find('}').ok_or_else(brace)?;
            let field = &tail[1..close];
            let Some(field) = allowed.iter().find(|known| **known == field) else {
                return Err(TemplateError::Placeholder {
                    name: name.to_owned(),
                    part: part.to_owned(),
                    placeholder: field.to_owned(),
                    allowed: allowed
                        .iter()
                        .map(|known| format!("{{{known}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if !text_run.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text_run)));
            }
            segments.push(Segment::Field(field));
            rest = &tail[close + 1..];
        }
        text_run.push_str(rest);
        if !text_run.is_empty() {
            segments.push(Segment::Text(text_run));
        }
        Ok(Template { segments })
    }

    /// The text, each placeholder replaced by `value(name)`.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Field(field) => out.push_str(&value(field)),
            }
        }
        out
    }
}

/// Every message template, by `(name, part)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    templates: BTreeMap<(&'static str, &'static str), Template>,
}

impl Default for Templates {
    /// The embedded Chinese texts.
    fn default() -> Self {
        Templates::parse_all(CHINESE)
            .expect("the embedded templates are valid (a unit test checks)")
    }
}

impl Templates {
    /// Every template of a TOML text of `[name] part = "text"` tables, which must hold them all.
    fn parse_all(text: &str) -> Result<Templates, String> {
        let table: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|error| error.to_string())?;
        let mut templates = BTreeMap::new();
        for (name, parts, _) in SPECS {
            for part in *parts {
                let text = table
                    .get(*name)
                    .and_then(|parts| parts.get(*part))
                    .ok_or_else(|| format!("{name}.{part} is missing"))?;
                let template =
                    Template::parse(name, part, text).map_err(|error| error.to_string())?;
                templates.insert((*name, *part), template);
            }
        }
        Ok(Templates { templates })
    }

    /// Replaces template `name`'s `part` with `text`, checked.
    ///
    /// # Errors
    /// [`TemplateError`] when there is no such template or `text` is not a valid one for it.
    pub fn set(&mut self, name: &str, part: &str, text: &str) -> Result<(), TemplateError> {
        let template = Template::parse(name, part, text)?;
        let (key, _) = spec(name, part).expect("parse checked the name and part");
        self.templates.insert(key, template);
        Ok(())
    }

    /// Template `name`'s `part`.
    ///
    /// # Panics
    /// For a name or part that is not in the list (a bug in the caller).
    pub fn get(&self, name: &str, part: &str) -> &Template {
        spec(name, part)
            .and_then(|(key, _)| self.templates.get(&key))
            .unwrap_or_else(|| panic!("no template {name}.{part}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_templates_are_all_there_and_valid() {
        let templates = Templates::parse_all(CHINESE).expect("valid");
        let count: usize = SPECS.iter().map(|(_, parts, _)| parts.len()).sum();
        assert_eq!(templates.templates.len(), count);
    }

    #[test]
    fn placeholders_are_replaced_and_doubled_braces_are_literal() {
        let template = Template::parse("closed", "body", "{{{title}}} 第{round}轮").expect("valid");
        let text = template.render(|name| match name {
            "title" => "标题".to_owned(),
            "round" => "2".to_owned(),
            other => panic!("{other}"),
        });
        assert_eq!(text, "{标题} 第2轮");
    }

    #[test]
    fn an_unknown_placeholder_or_a_lone_brace_is_refused() {
        let unknown = Template::parse("assigned", "body", "《{titel}》");
        assert!(
            matches!(&unknown, Err(TemplateError::Placeholder { placeholder, .. }) if placeholder == "titel"),
            "{unknown:?}"
        );
        // A status notice has no due date.
        assert!(Template::parse("closed", "body", "{due}").is_err());
        assert!(Template::parse("closed", "body", "{title").is_err());
        assert!(Template::parse("closed", "body", "title}").is_err());
        assert!(Template::parse("weekly", "body", "").is_err());
        assert!(Template::parse("digest_item", "subject", "").is_err());
    }
}
