//! The frame every page shares: head, navigation, the language switch and the logout form.

use aggregates::actor::Role;
use axum::http::StatusCode;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::i18n::Lang;
use super::{query_pairs, PageContext};

/// The pages' style sheet, inline so a page is one request. Marks never rely on colour alone:
/// every flag also has its words.
const STYLE: &str = "
body{font-family:system-ui,'Noto Sans CJK SC','PingFang SC',sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#8b1a1a;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}
header .who{margin-left:auto}
header form{display:inline;margin:0}
main{padding:1rem;max-width:80rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th a{color:inherit}
#item-facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.5rem;background:#fff;border:1px solid #ccc;padding:.75rem 1rem;max-width:60rem}
#item-facts dt{color:#555}
#item-facts dd{margin:0;white-space:pre-wrap}
dl.counts{display:flex;gap:1.5rem;flex-wrap:wrap}
dl.counts div{background:#fff;border:1px solid #ccc;padding:.25rem .75rem}
dl.counts dd{font-size:1.5rem;margin:0;font-weight:bold}
.flag{font-weight:bold;padding:0 .3rem;border-radius:.2rem;white-space:nowrap}
.flag.overdue{background:#b00020;color:#fff}
.flag.due-soon{background:#ffd54f;color:#000;border:1px dashed #000}
tr.overdue td:first-child{border-left:.4rem solid #b00020}
tr.due-soon td:first-child{border-left:.4rem dashed #e6a700}
#flash.ok{background:#e6f4ea;border:1px solid #1e7e34;padding:.5rem}
#flash.error{background:#fde7e9;border:1px solid #b00020;padding:.5rem}
form.command{background:#fff;border:1px solid #ccc;padding:.5rem 1rem;margin:.5rem 0}
form.command label{display:block;margin:.25rem 0}
form.command input[type=text],form.command input[type=date],form.command textarea,form.command select{width:100%;max-width:40rem}
code.hash{font-size:.8em;word-break:break-all}
.filters label{margin-right:.75rem}
svg{max-width:100%;height:auto;background:#fff;border:1px solid #ccc}
";

/// `path_and_query` with `lang` set to `lang`: the language switch's target.
pub(crate) fn with_lang(path_and_query: &str, lang: Lang) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(path, query)| (path, Some(query)));
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(key, _)| key != "lang")
        .collect();
    pairs.push(("lang".to_owned(), lang.code().to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{path}?{query}")
}

/// The role's name in `lang`.
pub(crate) fn role_label(lang: Lang, role: Role) -> &'static str {
    lang.t(&format!("role.{}", role.as_str()))
}

fn navigation(context: &PageContext) -> Markup {
    let lang = context.lang;
    html! {
        header {
            strong { (lang.t("app.name")) }
            @if let Some(principal) = &context.principal {
                nav {
                    a href="/" { (lang.t("nav.board")) } " · "
                    a href="/figures" { (lang.t("nav.figures")) } " · "
                    a href="/audit" { (lang.t("nav.audit")) }
                    @if principal.role == Role::Liaison {
                        " · " a id="file-item" href="/items/new" { (lang.t("nav.new_item")) }
                    }
                }
            }
            span class="who" {
                @if let Some(principal) = &context.principal {
                    (lang.t("nav.signed_in_as")) " " (principal.person_id)
                    " (" (role_label(lang, principal.role)) ") "
                }
                a id="lang-switch" href=(with_lang(&context.path_and_query, lang.other()))
                    hreflang=(lang.other().code()) { (lang.t("lang.switch")) }
                @if context.principal.is_some() {
                    " "
                    form id="logout" method="post" action="/logout" {
                        button id="logout-submit" type="submit" { (lang.t("nav.logout")) }
                    }
                }
            }
        }
    }
}

/// A whole page: `title` and `body` inside the shared frame.
pub(crate) fn page(context: &PageContext, title: &str, body: Markup) -> Markup {
    let lang = context.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("app.name")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (navigation(context))
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An error page: the status, its stable code, the words for it and, for 4xx, the detail.
pub(crate) fn error_page(
    lang: Lang,
    status: StatusCode,
    code: &str,
    detail: Option<&str>,
) -> Markup {
    let words = match code {
        "not_found" => lang.t("error.not_found"),
        "forbidden" => lang.t("error.forbidden"),
        "csrf" => lang.t("error.csrf"),
        "internal" => lang.t("error.internal"),
        "unavailable" => lang.t("error.unavailable"),
        "too_large" => lang.t("error.too_large"),
        _ => lang.t("error.invalid"),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " · " (lang.t("app.name")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { (lang.t("app.name")) }
                    span class="who" {
                        a id="lang-switch" href={ "/?lang=" (lang.other().code()) } {
                            (lang.t("lang.switch"))
                        }
                        " "
                        form id="logout" method="post" action="/logout" {
                            button id="logout-submit" type="submit" { (lang.t("nav.logout")) }
                        }
                    }
                }
                main {
                    h1 { (lang.t("error.title")) " (" (status.as_u16()) ")" }
                    p id="flash" class="error" data-code=(code) { (words) }
                    @if let Some(detail) = detail {
                        p { code { (detail) } }
                    }
                    p { a href="/" { (lang.t("error.back")) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_keeps_the_query_and_replaces_lang() {
        assert_eq!(with_lang("/", Lang::En), "/?lang=en");
        assert_eq!(
            with_lang("/?status=assigned&lang=en", Lang::Zh),
            "/?status=assigned&lang=zh"
        );
    }
}
